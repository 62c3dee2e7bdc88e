import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { assertAllowedAccount, AwsTarget } from "../components/iotSdk";
import { oneLine } from "./fleet";
import { LastUpdate, StackRunner } from "./runner";
import { StackInfo } from "./stacks";
import { table } from "./summary";

/** Alarms in ALARM for one stack, read in its own account and region. */
export interface AlarmReader {
    /**
     * @param prefix the stack's alarm names start with it (`<namePrefix>-`)
     * @param topicArn the stack's operations topic: its alarms notify it (an alarm of another stack
     *   whose prefix happens to extend this one's does not)
     */
    inAlarm(target: AwsTarget, prefix: string, topicArn: string | undefined): Promise<string[]>;
}

export interface StackStatus {
    stack: string;
    region: string;
    account: string;
    lastUpdate?: LastUpdate;
    dashboardUrl?: string;
    /** Names of the stack's alarms in ALARM; undefined when they could not be read (see `error`). */
    alarms?: string[];
    error?: string;
}

export interface StatusReport {
    command: "status";
    stacks: StackStatus[];
    exitCode: number;
}

/** Output names `status` reads (index.ts exports them). */
export const DASHBOARD_OUTPUT = "dashboardUrl";
export const TOPIC_OUTPUT = "operationsTopicArn";

/** Every stack's last update, dashboard and firing alarms; exit 1 when any alarm fires or a stack cannot be read. */
export async function fleetStatus(stacks: StackInfo[], runner: StackRunner, alarms: AlarmReader, parallel = 4): Promise<StatusReport> {
    const one = async (s: StackInfo): Promise<StackStatus> => {
        const status: StackStatus = { stack: s.stack, region: s.region, account: s.account };
        const errors: string[] = [];
        let topicArn: string | undefined;
        try {
            const outputs = await runner.outputs(s.stack);
            const url = outputs[DASHBOARD_OUTPUT]?.value;
            if (typeof url === "string") status.dashboardUrl = url;
            const topic = outputs[TOPIC_OUTPUT]?.value;
            if (typeof topic === "string") topicArn = topic;
            status.lastUpdate = await runner.lastUpdate(s.stack);
        } catch (err) {
            errors.push(`state: ${oneLine(err)}`);
        }
        try {
            status.alarms = await alarms.inAlarm(s.target, `${s.namePrefix}-`, topicArn);
        } catch (err) {
            errors.push(`alarms: ${oneLine(err)}`);
        }
        if (errors.length) status.error = errors.join("; ");
        return status;
    };
    const out: StackStatus[] = new Array(stacks.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, stacks.length)) }, async () => {
        for (let i = next++; i < stacks.length; i = next++) out[i] = await one(stacks[i]);
    }));
    const bad = out.some((s) => s.error || (s.alarms?.length ?? 0) > 0);
    return { command: "status", stacks: out, exitCode: bad ? 1 : 0 };
}

export function statusText(report: StatusReport): string {
    const rows = report.stacks.map((s) => [
        s.stack, s.region, s.account,
        s.lastUpdate ? `${s.lastUpdate.kind} ${s.lastUpdate.result} ${s.lastUpdate.endTime ?? s.lastUpdate.startTime}` : "-",
        s.lastUpdate?.who ?? "-",
        s.alarms === undefined ? "?" : s.alarms.length ? s.alarms.join(", ") : "none",
        s.dashboardUrl ?? "-",
    ]);
    const errors = report.stacks.filter((s) => s.error).map((s) => `${s.stack}: ${s.error}`);
    return [table(["STACK", "REGION", "ACCOUNT", "LAST UPDATE", "BY", "IN ALARM", "DASHBOARD"], rows), ...(errors.length ? ["", ...errors] : [])].join("\n");
}

/**
 * CloudWatch DescribeAlarms in the stack's region with its credentials (its `aws:profile`, else the
 * ambient ones: in the deploy workflow, the stack's environment's OIDC role). StateValue ALARM and
 * AlarmNamePrefix filter server-side; NextToken pages
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 */
export class CloudWatchAlarms implements AlarmReader {
    constructor(
        private readonly client: (target: AwsTarget) => CloudWatchClient = cloudWatchClient,
        /** Credentials for another account would read its alarms (none of ours): `aws:allowedAccountIds` is checked first. */
        private readonly checkAccount: (target: AwsTarget, what: string) => Promise<void> = assertAllowedAccount,
    ) {}

    async inAlarm(target: AwsTarget, prefix: string, topicArn: string | undefined): Promise<string[]> {
        await this.checkAccount(target, `alarms of ${prefix}*`);
        const { DescribeAlarmsCommand } = require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch");
        const client = this.client(target);
        const names: string[] = [];
        let token: string | undefined;
        do {
            const page = await client.send(new DescribeAlarmsCommand({
                AlarmNamePrefix: prefix, StateValue: "ALARM", AlarmTypes: ["MetricAlarm", "CompositeAlarm"], NextToken: token,
            }));
            for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
                if (!a.AlarmName) continue;
                if (topicArn && !(a.AlarmActions ?? []).includes(topicArn)) continue;
                names.push(a.AlarmName);
            }
            token = page.NextToken;
        } while (token);
        return names.sort();
    }
}

export function cloudWatchClient(target: AwsTarget): CloudWatchClient {
    const sdk = require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch");
    return new sdk.CloudWatchClient({ region: target.region, ...(target.profile ? { profile: target.profile } : {}) });
}
