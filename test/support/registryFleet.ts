/** A shipped stack's plan wired to the broker double of AWS IoT, with the real hook on a real DynamoDB (dynalite). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configFromEnv, createHandler } from "../../components/provisioning/lambda/provisioningHook";
import { ACCOUNT_ID } from "../../plan/mocks";
import { ProgramRun } from "../../plan/program";
import { PolicyDocument } from "../../policies/document";
import { AwsIotDouble } from "./awsIotDouble";
import { AccountRateLimiter } from "./rateLimiter";
import { LocalDynamo } from "./dynalite";
import { HookProcess } from "./hookProcess";

export interface Fleet { run: ProgramRun; double: AwsIotDouble; local: LocalDynamo; dir: string; claim: { cert: string; key: string }; decisions: { reason: string }[]; env: Record<string, string>; hookProcess?: HookProcess }

export interface FleetOptions {
    /** AWS's per-account rates, shared by the fleets of one account. */
    limiter?: AccountRateLimiter;
    /** false: the double and the hook keep no logs (a burst of thousands of units). */
    keepLogs?: boolean;
    /**
     * Each hook invocation's time (ms): as the double waits for it, or, with `hookInChildProcess`, as the hook's own
     * process measures it (what Lambda bills); `hookWaitTimes` then gets the double's view.
     */
    hookTimes?: number[];
    hookWaitTimes?: number[];
    /** The hook in a Node process of its own (./hookProcess.ts), as a Lambda execution environment runs it: the burst bench. */
    hookInChildProcess?: boolean;
    /** With `hookInChildProcess`: the hook's DynamoDB calls as its own client saw them (ms). */
    hookDynamoTimes?: number[];
    /** dynalite in a child process of its own (LocalDynamo's `childProcess`): the burst bench. */
    dynamoInChildProcess?: boolean;
}

/** The stack's plan wired to the double, with its claim certificate. */
export async function fleet(run: ProgramRun, o: FleetOptions = {}): Promise<Fleet> {
    const env = run.one("aws:lambda/function:Function", "-provisioning-hook").inputs.environment.variables;
    const local = await LocalDynamo.start({ childProcess: o.dynamoInChildProcess });
    await local.table(env.REGISTRY_TABLE, "serialNumber");
    await local.table(env.ROTATION_TABLE, "thingName");
    const decisions: { reason: string }[] = [];
    const policies: Record<string, PolicyDocument> = {};
    for (const p of run.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
    const templates: Record<string, object> = {};
    for (const t of run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templates[t.inputs.name] = JSON.parse(t.inputs.templateBody);
    let double: AwsIotDouble | undefined;
    const iot = { send: (c: never) => double!.iotApi().send(c) };
    const log = (l: string) => { if (o.keepLogs !== false) decisions.push(JSON.parse(l)); };
    const hookProcess = o.hookInChildProcess
        ? await HookProcess.start({ env, endpoint: local.endpoint, registryTimeoutMs: 3000, iot: iot as never, hookTimes: o.hookTimes, dynamoTimes: o.hookDynamoTimes, log })
        : undefined;
    const hook = hookProcess
        ? (event: unknown) => hookProcess.invoke(event)
        : createHandler({ config: configFromEnv(env), dynamo: local.client, iot: iot as never, now: () => new Date(), log, registryTimeoutMs: 3000 });
    const waits = hookProcess ? o.hookWaitTimes : o.hookTimes;
    const timedHook = waits ? async (event: unknown) => {
        const t = process.hrtime.bigint();
        try {
            return await hook(event as never);
        } finally {
            waits.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
    } : hook;
    const claimPolicy = run.ofType("aws:iot/policy:Policy").find((p) => p.inputs.name.endsWith("-claim"))!.inputs.name;
    double = await AwsIotDouble.start({ region: "ap-northeast-2", accountId: ACCOUNT_ID, templates, policies, claimPolicyName: claimPolicy, hook: timedHook as never, limiter: o.limiter, keepLogs: o.keepLogs });
    const issued = await double.issueClaimCertificate();
    return { run, double, local, dir: fs.mkdtempSync(path.join(os.tmpdir(), "fms-registry-")), claim: { cert: issued.certPem, key: issued.keyPem }, decisions, env, hookProcess };
}

export async function close(f: Fleet | undefined): Promise<void> {
    await f?.double.close();
    await f?.hookProcess?.stop();
    await f?.local.stop();
    if (f) fs.rmSync(f.dir, { recursive: true, force: true });
}

