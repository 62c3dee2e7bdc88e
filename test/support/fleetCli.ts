/** `npm run device -- ...` against a registry fleet (./registryFleet.ts): its stack outputs, the double and dynalite. */
import { Io, run as device } from "../../device/cli";
import { Fleet } from "./registryFleet";

export interface CliRun { code: number; out: string[]; err: string[] }

/** A runner of the device CLI for `f` (read when called, so `f` may be assigned later); `io` adds or overrides hooks. */
export function fleetCli(f: () => Fleet, io: Partial<Io> = {}): (argv: string[]) => Promise<CliRun> {
    return async (argv) => {
        const out: string[] = [];
        const err: string[] = [];
        const fleet = f();
        const outputs = { ...fleet.run.outputs, iotEndpoint: "localhost", registryTableName: fleet.env.REGISTRY_TABLE, rotationScheduleTable: fleet.env.ROTATION_TABLE };
        const code = await device(argv, {
            out: (l) => out.push(l), err: (l) => err.push(l), stackOutputs: () => outputs,
            aws: () => ({ iot: fleet.double.iotApi() as never, dynamo: fleet.local.client }), ...io,
        });
        return { code, out, err };
    };
}
