import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../../policies/document";
import { jitrRolePolicy } from "../../policies/justInTimeRegistration";
import { ruleErrorLogPolicy } from "../../policies/rotation";
import { ruleNameFor } from "../../config/routingConfig";
import { OemCaConfig } from "../../config/identityConfig";
import { trustedBy } from "../arnContext";
import { handlerArchive } from "../lambdaBundle";
import { nodeLambda } from "../nodeLambda";
import { JITR_REGISTRY_ATTRIBUTES, JITR_ROTATION_ATTRIBUTES } from "./lambda/justInTimeRegistration";

export const JITR_ENTRY = path.join(__dirname, "lambda", "justInTimeRegistration.ts");

/**
 * AWS IoT developer guide, "Register a client certificate when the client connects to AWS IoT
 * just-in-time registration (JITR)": AWS IoT publishes each auto-registered certificate's event here.
 */
export const registrationEventTopic = (caCertificateId: string) => `$aws/events/certificates/registered/${caCertificateId}`;
export const jitrSql = (caCertificateId: string) => `SELECT * FROM '${registrationEventTopic(caCertificateId)}'`;

export interface OemCaRegistrationArgs {
    ctx: pulumi.Input<ArnContext>;
    namePrefix: string;
    country: string;
    oemCa: OemCaConfig;
    /** The registry marks a serial as this fleet's by this name (`templates`, the factory's registration CSV). */
    fleetName: string;
    thingNamePrefix: string;
    serialPrefixes: string[];
    devicePolicyName: pulumi.Input<string>;
    thingTypeName: pulumi.Input<string>;
    thingGroupName: pulumi.Input<string>;
    registryTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    rotationTable: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    gracePeriodHours: number;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** `protect` the CA registrations. */
    protect: boolean;
}

/**
 * `oemCa`: the maker's CA certificate(s) registered with AWS IoT, and just-in-time registration.
 *
 * Each CA certificate is registered in SNI_ONLY mode: "A CA certificate can be registered in DEFAULT mode
 * by only one account in a Region. A CA certificate can be registered in SNI_ONLY mode by multiple
 * accounts in a Region" (AWS IoT developer guide, "Manage your CA certificates",
 * https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html), and with no
 * verification certificate: RegisterCACertificate, certificateMode: "If the verificationCertificate
 * field is not provided, set certificateMode to be SNI_ONLY" (AWS IoT API reference). No proof of
 * possession is asked, so the CA's private key never comes near this project; units must send SNI (every
 * AWS IoT Device SDK does). Auto-registration is on; a rule per CA hands each registration event to the
 * JITR function, which decides whether the unit belongs to this stack's fleet
 * (lambda/justInTimeRegistration.ts). The registrations outlive the stack (`retainOnDelete`): AWS IoT keeps
 * the units' certificates registered under them.
 */
export class OemCaRegistration extends pulumi.ComponentResource {
    public readonly caCertificateIds: pulumi.Output<string[]>;
    public readonly functionName: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly ruleNames: pulumi.Output<string[]>;

    constructor(name: string, args: OemCaRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:OemCaRegistration", name, {}, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);

        const cas = args.oemCa.caCertificates.map((pem, i) => new aws.iot.CaCertificate(`${name}-ca-${i}`, {
            caCertificatePem: pem,
            certificateMode: "SNI_ONLY",
            active: true,
            allowAutoRegistration: true,
        }, { parent: this, retainOnDelete: true, protect: args.protect }));
        const caIds = pulumi.all(cas.map((c) => c.id));

        const { fn, logGroup } = nodeLambda(`${name}-jitr`, this, {
            ctx,
            functionName: `${args.namePrefix}-jitr`,
            description: `Just-in-time registration of ${args.country} units with the maker's certificates: this fleet's registry decides`,
            roleDescription: "Just-in-time registration: this fleet's registry, Things and the certificates AWS IoT registered",
            code: handlerArchive(JITR_ENTRY),
            handler: "index.handler",
            timeout: 30,
            environment: {
                REGISTRY_TABLE: args.registryTable.name,
                ROTATION_TABLE: args.rotationTable.name,
                FLEET_NAME: args.fleetName,
                THING_NAME_PREFIX: args.thingNamePrefix,
                SERIAL_PREFIXES: JSON.stringify(args.serialPrefixes),
                SERIAL_FIELD: args.oemCa.serialField,
                SUBJECT_COUNTRY: args.oemCa.membership === "registryAndSubjectCountry" ? args.country : "",
                COUNTRY: args.country,
                CA_CERTIFICATE_IDS: caIds.apply((ids) => JSON.stringify(ids)),
                DEVICE_POLICY: args.devicePolicyName,
                THING_TYPE: args.thingTypeName,
                THING_GROUP: args.thingGroupName,
                GRACE_PERIOD_HOURS: String(args.gracePeriodHours),
            },
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            policyInputs: { registryArn: args.registryTable.arn, rotationArn: args.rotationTable.arn, keyArn: args.kmsKeyArn, group: args.thingGroupName },
            policy: (c, logGroupArn, v) => jitrRolePolicy({
                ...c, logGroupArn, registryTableArn: v.registryArn, rotationTableArn: v.rotationArn, keyArn: v.keyArn,
                registryAttributes: JITR_REGISTRY_ATTRIBUTES, rotationAttributes: JITR_ROTATION_ATTRIBUTES,
                thingNamePrefix: args.thingNamePrefix, thingGroupName: v.group,
            }),
        });

        // A failed invocation (the rules engine invokes Lambda asynchronously) goes to this rule's error log.
        const errorLogs = new aws.cloudwatch.LogGroup(`${name}-jitr-errors`, {
            name: `/aws/iot/rules/${args.namePrefix}-jitr`, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn,
        }, parent);
        const ruleRole = new aws.iam.Role(`${name}-jitr-errors-role`, {
            description: "Just-in-time registration rules: their error log only",
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
        }, parent);
        const ruleRolePolicy = new aws.iam.RolePolicy(`${name}-jitr-errors-policy`, {
            role: ruleRole.id,
            policy: errorLogs.arn.apply((arn) => JSON.stringify(ruleErrorLogPolicy(arn))),
        }, parent);

        const rules = cas.map((ca, i) => {
            const ruleName = ruleNameFor(args.namePrefix, `jitr_${i}`);
            const invoke = new aws.lambda.Permission(`${name}-jitr-invoke-${i}`, {
                function: fn.name,
                action: "lambda:InvokeFunction",
                principal: "iot.amazonaws.com",
                sourceAccount: ctx.accountId,
                sourceArn: ctx.apply((c) => `arn:${c.partition}:iot:${c.region}:${c.accountId}:rule/${ruleName}`),
            }, parent);
            return new aws.iot.TopicRule(`${name}-jitr-rule-${i}`, {
                name: ruleName,
                description: `Certificates AWS IoT registered under the maker's CA ${i}: the JITR function decides`,
                enabled: true,
                sql: ca.id.apply(jitrSql),
                sqlVersion: "2016-03-23",
                lambdas: [{ functionArn: fn.arn }],
                errorAction: { cloudwatchLogs: { logGroupName: errorLogs.name, roleArn: ruleRole.arn } },
            }, { parent: this, dependsOn: [invoke, ruleRolePolicy] });
        });

        this.caCertificateIds = caIds;
        this.functionName = fn.name;
        this.logGroupName = logGroup.name;
        this.ruleNames = pulumi.all(rules.map((r) => r.name));
        this.registerOutputs({ caCertificateIds: this.caCertificateIds, functionName: this.functionName, ruleNames: this.ruleNames });
    }
}
