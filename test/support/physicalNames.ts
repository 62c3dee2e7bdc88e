import { ProgramRun, RecordedResource } from "../../plan/program";

/** Where AWS makes a name unique: IAM names per account, the rest per account and region. */
export type NameScope = "account" | "region";

/** How each resource type's physical name is read from its inputs, and how far it must be unique. */
const NAMES: Record<string, { scope: NameScope; name: (i: Record<string, any>) => unknown }> = {
    "aws:iot/policy:Policy": { scope: "region", name: (i) => i.name },
    "aws:iot/thingGroup:ThingGroup": { scope: "region", name: (i) => i.name },
    "aws:iot/thingType:ThingType": { scope: "region", name: (i) => i.name },
    "aws:iot/roleAlias:RoleAlias": { scope: "region", name: (i) => i.alias },
    "aws:iot/provisioningTemplate:ProvisioningTemplate": { scope: "region", name: (i) => i.name },
    "aws:iot/topicRule:TopicRule": { scope: "region", name: (i) => i.name },
    "aws:cloudwatch/logGroup:LogGroup": { scope: "region", name: (i) => i.name },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { scope: "region", name: (i) => i.name },
    "aws:cloudwatch/eventRule:EventRule": { scope: "region", name: (i) => i.name },
    // Named CloudWatch Logs resource policies are per account and region (at most 10: API_PutResourcePolicy).
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": { scope: "region", name: (i) => i.policyName },
    "aws:lambda/function:Function": { scope: "region", name: (i) => i.name },
    "aws:dynamodb/table:Table": { scope: "region", name: (i) => i.name },
    "aws:sns/topic:Topic": { scope: "region", name: (i) => i.name },
    "aws:kms/alias:Alias": { scope: "region", name: (i) => i.name },
    "aws:secretsmanager/secret:Secret": { scope: "region", name: (i) => i.name },
    "aws:msk/cluster:Cluster": { scope: "region", name: (i) => i.clusterName },
    "aws:msk/configuration:Configuration": { scope: "region", name: (i) => i.name },
    "aws:iam/role:Role": { scope: "account", name: (i) => i.name },
    "aws:iam/policy:Policy": { scope: "account", name: (i) => i.name },
    "aws-native:greengrassv2:ComponentVersion": { scope: "region", name: (i) => JSON.parse(i.inlineRecipe).ComponentName },
    "aws-native:greengrassv2:Deployment": { scope: "region", name: (i) => i.deploymentName },
    "aws-native:iot:ScheduledAudit": { scope: "region", name: (i) => i.scheduledAuditName },
    "aws-native:iot:FleetMetric": { scope: "region", name: (i) => i.metricName },
    "aws-native:iot:SecurityProfile": { scope: "region", name: (i) => i.securityProfileName },
    // One per account and region: whoever creates it owns the region's logging, audit and index.
    "pulumi-nodejs:dynamic/iot:RegionSettings": { scope: "region", name: () => "AWS IoT logging, audit configuration and fleet index" },
};

export interface PhysicalName { scope: NameScope; key: string; resource: RecordedResource }

/** Every account- or region-wide physical name a stack's program would create (given names only; generated ones cannot collide). */
export function physicalNames(run: ProgramRun, within?: (r: RecordedResource) => boolean): PhysicalName[] {
    return run.resources.filter((r) => NAMES[r.type] && (!within || within(r))).flatMap((r) => {
        const name = NAMES[r.type].name(r.inputs);
        return typeof name === "string" ? [{ scope: NAMES[r.type].scope, key: `${r.type} ${name}`, resource: r }] : [];
    });
}

/** Resources inside a component (at any depth). */
export function inside(run: ProgramRun, componentUrn: string): (r: RecordedResource) => boolean {
    return (r) => {
        for (let p = r.parent; p; p = run.resources.find((x) => x.urn === p)?.parent ?? null) if (p === componentUrn) return true;
        return false;
    };
}
