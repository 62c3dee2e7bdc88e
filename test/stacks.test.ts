import * as assert from "assert";
import { stackNames, readStackFile } from "../config/stackFile";
import { stackConfigFromEngine, StackConfig } from "../config/stackConfig";
import { ProgramRun, runStack } from "../plan/program";
import { ACCOUNT_ID } from "../plan/mocks";
import { assertLeastPrivilege, isSecretValue, parsePolicy, statement } from "./support/assertions";

const THING = "${iot:Connection.Thing.ThingName}";

function configOf(stack: string): StackConfig {
    const f = readStackFile(stack);
    return stackConfigFromEngine(f.project, stack, f.config);
}

describe("stacks", () => {
    it("dev, kr and jp ship (a new country is one more file: every Pulumi.<stack>.yaml is a stack)", () => {
        for (const shipped of ["dev", "jp", "kr"]) assert.ok(stackNames().includes(shipped), shipped);
        assert.strictEqual(configOf("jp").region, "ap-northeast-1");
        assert.strictEqual(configOf("kr").environment, "production");
        assert.strictEqual(configOf("dev").environment, "dev");
    });

    for (const stack of stackNames()) {
        // The claim side (claim certificate, its bucket and policy, templates, hook, provisioning role) exists in every
        // identity mode but oemCa (test/oemCa.test.ts holds that an oemCa stack has none of it).
        const oemCa = configOf(stack).provisioning.identity.mode === "oemCa";
        const claimOnly = (title: string, fn: () => void) => (oemCa ? it.skip : it)(title, fn);
        describe(`stack ${stack} on mocks`, function () {
            this.timeout(60_000);
            let run: ProgramRun;
            let cfg: StackConfig;
            let iot: (resource: string) => string;
            before(async () => {
                cfg = configOf(stack);
                run = await runStack(stack);
                iot = (resource) => `arn:aws:iot:${cfg.region}:${ACCOUNT_ID}:${resource}`;
            });

            it("tags every resource through the providers' default tags", () => {
                const native = run.one("pulumi:providers:aws-native");
                assert.deepStrictEqual(JSON.parse(native.inputs.defaultTags).tags, cfg.tags);
                assert.strictEqual(native.inputs.region, cfg.region);
                const provider = run.one("pulumi:providers:aws");
                assert.strictEqual(provider.inputs.region, cfg.region);
                const tags = JSON.parse(provider.inputs.defaultTags).tags;
                assert.strictEqual(tags.Country, cfg.country);
                assert.strictEqual(tags.Environment, cfg.environment);
                assert.strictEqual(tags.Project, "fms-iot");
            });

            it("device policy: connect only as its own attached Thing; own, shadow, jobs and Basic Ingest topics", () => {
                const policy = run.one("aws:iot/policy:Policy", "-device-policy");
                assert.strictEqual(policy.inputs.name, `${cfg.namePrefix}-device`);
                const doc = parsePolicy(policy.inputs.policy);
                assertLeastPrivilege(doc);
                const connect = statement(doc, "ConnectAsOwnThing");
                assert.deepStrictEqual(connect.Action, ["iot:Connect"]);
                assert.deepStrictEqual(connect.Resource, [iot(`client/${THING}`)]);
                assert.deepStrictEqual(connect.Condition, { Bool: { "iot:Connection.Thing.IsAttached": "true" } });
                const own = [`${cfg.topics.deviceRoot}/${THING}/*`, `$aws/things/${THING}/shadow/*`, `$aws/things/${THING}/jobs/*`];
                const topics = statement(doc, "OwnTopics");
                assert.deepStrictEqual(topics.Action, ["iot:Publish", "iot:Receive"], "no iot:RetainPublish: a retained message outlives the certificate");
                assert.deepStrictEqual(topics.Resource, own.map((t) => iot(`topic/${t}`)));
                const filters = statement(doc, "OwnTopicFilters");
                assert.deepStrictEqual(filters.Action, ["iot:Subscribe"]);
                assert.deepStrictEqual(filters.Resource, own.map((t) => iot(`topicfilter/${t}`)));
                const connects = doc.Statement.filter((s) => s.Action.includes("iot:Connect"));
                assert.strictEqual(connects.length, 1, "no other statement allows Connect");
            });

            claimOnly("claim policy: a claim client-id prefix and the provisioning topics of this stack's templates only", () => {
                const claim = run.one("aws:iot/policy:Policy", "-claim-policy");
                const doc = parsePolicy(claim.inputs.policy);
                assertLeastPrivilege(doc);
                // The guardrail reads the key mode from this tag: without it a deviceKeys: aws stack would fail it.
                assert.deepStrictEqual(claim.inputs.tags, { DeviceKeys: cfg.provisioning.deviceKeys });
                assert.deepStrictEqual(statement(doc, "ConnectWithClaimClientId").Resource, [iot(`client/${cfg.provisioning.claimClientIdPrefix}*`)]);
                const templates = [cfg.provisioning.templateName, ...(cfg.greengrass ? [cfg.greengrass.templateName] : [])];
                const paths = [cfg.provisioning.deviceKeys === "device" ? "$aws/certificates/create-from-csr/*" : "$aws/certificates/create/*", ...templates.map((t) => `$aws/provisioning-templates/${t}/provision/*`)];
                const pub = statement(doc, "ProvisioningTopics");
                assert.deepStrictEqual(pub.Action, ["iot:Publish", "iot:Receive"]);
                assert.deepStrictEqual(pub.Resource, paths.map((p) => iot(`topic/${p}`)));
                const sub = statement(doc, "ProvisioningTopicFilters");
                assert.deepStrictEqual(sub.Action, ["iot:Subscribe"]);
                assert.deepStrictEqual(sub.Resource, paths.map((p) => iot(`topicfilter/${p}`)));
                assert.strictEqual(doc.Statement.length, 3);
            });

            claimOnly("provisioning template: enabled, hook set, Thing name from the serial, group and policy fixed", () => {
                const t = run.one("aws:iot/provisioningTemplate:ProvisioningTemplate", "-provisioning-template");
                const hook = run.one("aws:lambda/function:Function", "-hook");
                assert.strictEqual(t.inputs.name, cfg.provisioning.templateName);
                assert.strictEqual(t.inputs.type, "FLEET_PROVISIONING");
                assert.strictEqual(t.inputs.enabled, true);
                assert.deepStrictEqual(t.inputs.preProvisioningHook, { targetArn: hook.state.arn, payloadVersion: "2020-04-01" });
                assert.strictEqual(t.inputs.provisioningRoleArn, run.one("aws:iam/role:Role", "-provisioning-role").state.arn);
                const body = JSON.parse(t.inputs.templateBody);
                assert.deepStrictEqual(Object.keys(body.Parameters).sort(), ["AWS::IoT::Certificate::Id", "CertDate", "CertExpiry", "SerialNumber"]);
                const thing = body.Resources.thing;
                assert.strictEqual(thing.Type, "AWS::IoT::Thing");
                assert.deepStrictEqual(thing.Properties.ThingName, { "Fn::Join": ["", [cfg.provisioning.thingNamePrefix, { Ref: "SerialNumber" }]] });
                assert.strictEqual(thing.Properties.ThingTypeName, `${cfg.namePrefix}-vehicle`);
                assert.deepStrictEqual(thing.Properties.ThingGroups, [`${cfg.namePrefix}-vehicles`], "a literal group, never a device parameter");
                assert.deepStrictEqual(thing.Properties.AttributePayload, { serial: { Ref: "SerialNumber" }, country: cfg.country, CertDate: { Ref: "CertDate" }, CertExpiry: { Ref: "CertExpiry" } });
                // A rotation reaches an existing Thing: its group stays, its attributes and type are rewritten.
                assert.deepStrictEqual(thing.OverrideSettings, { AttributePayload: "REPLACE", ThingTypeName: "REPLACE", ThingGroups: "DO_NOTHING" });
                const rotation = run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").find((x) => x.inputs.name === cfg.provisioning.rotation.templateName)!;
                assert.strictEqual(rotation.inputs.templateBody, t.inputs.templateBody, "the rotation template writes the same Thing");
                assert.deepStrictEqual(rotation.inputs.preProvisioningHook, t.inputs.preProvisioningHook);
                assert.deepStrictEqual(body.Resources.certificate, { Type: "AWS::IoT::Certificate", Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "ACTIVE" } });
                assert.deepStrictEqual(body.Resources.policy, { Type: "AWS::IoT::Policy", Properties: { PolicyName: `${cfg.namePrefix}-device` } });
            });

            claimOnly("provisioning role: trusted by IoT for this account, with AWSIoTThingsRegistration", () => {
                const role = run.one("aws:iam/role:Role", "-provisioning-role");
                const trust = parsePolicy(role.inputs.assumeRolePolicy);
                assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "iot.amazonaws.com" });
                // AWS IoT may assume it for this account's provisioning templates of this stack only (aws:SourceArn too).
                const templates = [cfg.provisioning.templateName, cfg.provisioning.rotation.templateName, ...(cfg.greengrass ? [cfg.greengrass.templateName, cfg.greengrass.rotationTemplateName] : [])];
                assert.deepStrictEqual(trust.Statement[0].Condition, {
                    StringEquals: { "aws:SourceAccount": ACCOUNT_ID }, ArnLike: { "aws:SourceArn": templates.map((t) => iot(`provisioningtemplate/${t}`)) },
                });
                const att = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-provisioning-registration");
                assert.strictEqual(att.inputs.policyArn, "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration");
                assert.strictEqual(att.inputs.role, role.state.name);
            });

            claimOnly("hook: Node.js 22, bundled handler, plain config in its environment, invocable only by this template", () => {
                const fn = run.one("aws:lambda/function:Function", "-hook");
                assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
                assert.ok(fn.inputs.timeout <= 4, "answers inside the 5 s hook limit");
                const { HOOK_TEMPLATES, ...plain } = fn.inputs.environment.variables;
                assert.deepStrictEqual(plain, {
                    HOOK_MODE: cfg.provisioning.hookMode,
                    REGISTRY_TABLE: run.one("aws:dynamodb/table:Table", "-registry").state.name,
                    ALLOW_REPROVISIONING: String(cfg.provisioning.allowReprovisioning),
                    // Keys are bound in registry mode with device-made keys (every production stack).
                    BIND_KEYS: String(cfg.provisioning.hookMode === "registry" && cfg.provisioning.deviceKeys === "device"),
                    ROTATION_TABLE: run.one("aws:dynamodb/table:Table", "-rotation-state").state.name,
                    GRACE_PERIOD_HOURS: String(cfg.provisioning.rotation.gracePeriodHours),
                    CONFIRM_TIMEOUT_HOURS: String(cfg.provisioning.rotation.confirmTimeoutHours),
                    MIN_ROTATION_INTERVAL_HOURS: String(cfg.provisioning.rotation.minIntervalHours),
                });
                if (cfg.environment === "production") assert.strictEqual(plain.BIND_KEYS, "true");
                // Each template the hook serves, with the serials bound to it: vehicles, their rotation, cores;
                // a device may send its serial and nothing else.
                const p = cfg.provisioning;
                const deviceParameters = ["SerialNumber"];
                assert.deepStrictEqual(JSON.parse(HOOK_TEMPLATES), {
                    [p.templateName]: { purpose: "provision", thingNamePrefix: p.thingNamePrefix, serialPrefixes: p.serialPrefixes, deviceParameters },
                    [p.rotation.templateName]: { purpose: "rotate", thingNamePrefix: p.thingNamePrefix, serialPrefixes: p.serialPrefixes, deviceParameters },
                    ...(cfg.greengrass ? {
                        [cfg.greengrass.templateName]: { purpose: "provision", thingNamePrefix: cfg.greengrass.coreThingNamePrefix, serialPrefixes: cfg.greengrass.serialPrefixes, deviceParameters },
                        // Cores rotate through their own template, with the same hook checks as vehicles.
                        [cfg.greengrass.rotationTemplateName]: { purpose: "rotate", thingNamePrefix: cfg.greengrass.coreThingNamePrefix, serialPrefixes: cfg.greengrass.serialPrefixes, deviceParameters },
                    } : {}),
                });
                const perm = run.one("aws:lambda/permission:Permission", "-provisioning-hook-invoke");
                assert.strictEqual(perm.inputs.principal, "iot.amazonaws.com");
                assert.strictEqual(perm.inputs.action, "lambda:InvokeFunction");
                assert.strictEqual(perm.inputs.function, fn.state.name);
                assert.strictEqual(perm.inputs.sourceAccount, ACCOUNT_ID);
                assert.strictEqual(perm.inputs.sourceArn, iot(`provisioningtemplate/${cfg.provisioning.templateName}`));
            });

            claimOnly("hook role: its own log group, (registry mode) a read and one conditional claim on its own table, its own Things", () => {
                const doc = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-hook-policy").inputs.policy);
                assertLeastPrivilege(doc);
                const logs = run.one("aws:cloudwatch/logGroup:LogGroup", "-hook-logs");
                assert.deepStrictEqual(statement(doc, "OwnLogs").Resource, [`${logs.state.arn}:*`]);
                assert.strictEqual(logs.inputs.retentionInDays, cfg.logRetentionDays);
                assert.ok(logs.inputs.kmsKeyId.startsWith(`arn:aws:kms:${cfg.region}:`));
                const table = run.one("aws:dynamodb/table:Table", "-registry").state.arn;
                const onlyAttributes = (attributes: string[]) => ({
                    "ForAllValues:StringEquals": { "dynamodb:Attributes": attributes }, StringEquals: { "dynamodb:ReturnValues": "NONE" },
                });
                const claimAttributes = ["serialNumber", "status", "certificateId", "templateName", "provisionedAt", "claimCertificateId", "publicKeyFingerprint", "previousCertificateId", "rotationStartedAt", "claimKeyFingerprint", "publicKeyHistory"];
                // Prefix mode never reads the registry (issue 26: grant per mode what it uses).
                if (cfg.provisioning.hookMode === "registry") assert.deepStrictEqual(statement(doc, "ReadRegistry").Resource, [table]);
                else assert.ok(!doc.Statement.some((s) => s.Action.includes("dynamodb:GetItem")), "prefix mode: no registry read");
                assert.deepStrictEqual(statement(doc, "ReadOwnThingsCertificateStatus").Resource, [iot("cert/*")]);
                assert.deepStrictEqual(statement(doc, "RecordRotationState"), {
                    Sid: "RecordRotationState", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [run.one("aws:dynamodb/table:Table", "-rotation-state").state.arn],
                    Condition: onlyAttributes(["thingName", "unconfirmedCertificateArn", "confirmBy", "keeperCertificateArn", "retiringCertificateArns", "retireAfter"]),
                });
                assert.deepStrictEqual(statement(doc, "UseTableKeyThroughDynamoDB").Condition, { StringEquals: { "kms:ViaService": `dynamodb.${cfg.region}.amazonaws.com` } });
                if (cfg.provisioning.hookMode === "registry") {
                    assert.deepStrictEqual(statement(doc, "ClaimSerialOnce"), {
                        Sid: "ClaimSerialOnce", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [table], Condition: onlyAttributes(claimAttributes),
                    });
                    assert.ok(!doc.Statement.some((s) => s.Sid === "LookUpOwnThings"));
                } else {
                    // Prefix mode claims serials with a conditional put into the same table.
                    assert.deepStrictEqual(statement(doc, "ClaimSerialOnceByPut"), {
                        Sid: "ClaimSerialOnceByPut", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table],
                        Condition: onlyAttributes(["serialNumber", "status", "certificateId", "templateName", "provisionedAt", "claimCertificateId", "claimKeyFingerprint"]),
                    });
                    const prefixes = [cfg.provisioning.thingNamePrefix, ...(cfg.greengrass ? [cfg.greengrass.coreThingNamePrefix] : [])];
                    assert.deepStrictEqual(statement(doc, "LookUpOwnThings").Resource, prefixes.map((x) => iot(`thing/${x}*`)));
                }
                assert.deepStrictEqual(statement(doc, "ListOwnThingsCertificates"), {
                    Sid: "ListOwnThingsCertificates", Effect: "Allow", Action: ["iot:ListThingPrincipals"],
                    Resource: [cfg.provisioning.thingNamePrefix, ...(cfg.greengrass ? [cfg.greengrass.coreThingNamePrefix] : [])].map((x) => iot(`thing/${x}*`)),
                });
            });

            it("registry: on-demand, point-in-time recovery, encrypted with the stack key", () => {
                const t = run.one("aws:dynamodb/table:Table", "-registry");
                const key = run.one("aws:kms/key:Key", "-key-key");
                assert.strictEqual(t.inputs.billingMode, "PAY_PER_REQUEST");
                assert.strictEqual(t.inputs.hashKey, "serialNumber");
                assert.deepStrictEqual(t.inputs.pointInTimeRecovery, { enabled: true });
                assert.deepStrictEqual(t.inputs.serverSideEncryption, { enabled: true, kmsKeyArn: key.state.arn });
                assert.strictEqual(t.inputs.deletionProtectionEnabled, cfg.protect);
            });

            it("stack key: rotation on, the account root keeps administering it", () => {
                const key = run.one("aws:kms/key:Key", "-key-key");
                assert.strictEqual(key.inputs.enableKeyRotation, true);
                const doc = parsePolicy(key.inputs.policy);
                assert.deepStrictEqual(statement(doc, "AccountRootAdministersKey").Principal, { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` });
                const logs = statement(doc, "CloudWatchLogsForStackLogGroups");
                assert.deepStrictEqual(logs.Principal, { Service: `logs.${cfg.region}.amazonaws.com` });
                assert.ok(!logs.Action.includes("kms:*"));
            });

            claimOnly("claim certificate: dynamic provider in the stack's region; key delivered as a secret to a private, KMS-encrypted bucket", () => {
                const cert = run.one("pulumi-nodejs:dynamic/iot:ClaimCertificate");
                assert.strictEqual(cert.inputs.region, cfg.region);
                assert.strictEqual(cert.inputs.rotation, cfg.claimCertificate.rotation);
                assert.strictEqual(cert.inputs.status, cfg.claimCertificate.status);
                assert.ok(typeof cert.inputs.__provider === "string" && cert.inputs.__provider.includes("CreateKeysAndCertificateCommand"));

                const attach = run.one("aws:iot/policyAttachment:PolicyAttachment");
                assert.strictEqual(attach.inputs.policy, `${cfg.namePrefix}-claim`);
                assert.strictEqual(attach.inputs.target, cert.state.certificateArn);

                const bucket = run.one("aws:s3/bucket:Bucket", "-pems-bucket");
                const id = bucket.state.bucket;
                const pab = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-claim-pems-public-access");
                assert.deepStrictEqual([pab.inputs.bucket, pab.inputs.blockPublicAcls, pab.inputs.blockPublicPolicy, pab.inputs.ignorePublicAcls, pab.inputs.restrictPublicBuckets], [id, true, true, true, true]);
                const sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-claim-pems-encryption").inputs;
                assert.deepStrictEqual(sse.rules[0].applyServerSideEncryptionByDefault, { sseAlgorithm: "aws:kms", kmsMasterKeyId: run.one("aws:kms/key:Key", "-key-key").state.arn });
                assert.strictEqual(run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-claim-pems-ownership").inputs.rule.objectOwnership, "BucketOwnerEnforced");
                assert.strictEqual(run.one("aws:s3/bucketVersioning:BucketVersioning", "-claim-pems-versioning").inputs.versioningConfiguration.status, "Enabled");
                const tls = parsePolicy(run.one("aws:s3/bucketPolicy:BucketPolicy", "-claim-pems-tls-only").inputs.policy).Statement[0];
                assert.deepStrictEqual([tls.Effect, tls.Condition], ["Deny", { Bool: { "aws:SecureTransport": "false" } }]);

                const objects = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.inputs.key.startsWith("claim-certificate/"));
                assert.deepStrictEqual(objects.map((o) => o.inputs.key.split("/").pop()).sort(), ["certificate.pem.crt", "private.pem.key", "public.pem.key"]);
                for (const o of objects) {
                    assert.ok(o.inputs.key.startsWith(`claim-certificate/${cert.state.certificateId}/`));
                    assert.strictEqual(o.inputs.serverSideEncryption, "aws:kms");
                }
                const privateKey = objects.find((o) => o.inputs.key.endsWith("private.pem.key"))!;
                assert.ok(isSecretValue(privateKey.inputs.content), "the private key is a secret in state");
                assert.ok(!isSecretValue(objects.find((o) => o.inputs.key.endsWith("certificate.pem.crt"))!.inputs.content));
            });

            it("retains what provisioned vehicles hold on destroy, and protects stateful resources per the stack", () => {
                for (const [type, suffix] of [["aws:iot/policy:Policy", "-device-policy"], ["aws:iot/thingType:ThingType", ""], ["aws:iot/thingGroup:ThingGroup", "-provisioning-thing-group"]]) {
                    assert.strictEqual(run.one(type, suffix).retainOnDelete, true, type);
                }
                if (!oemCa) assert.strictEqual(run.one("aws:iot/policy:Policy", "-claim-policy").retainOnDelete, false);
                for (const [type, suffix] of [["aws:dynamodb/table:Table", "-registry"], ["fms:kms:StackKey", ""], ...(oemCa ? [] : [["fms:storage:SecureBucket", "-claim-pems"]])]) {
                    assert.strictEqual(run.one(type, suffix).protect, cfg.protect, type);
                }
                assert.strictEqual(cfg.protect, stack !== "dev");
            });

            it("outputs: endpoint, template, claim certificate and its S3 location, registry; no key material", () => {
                const o = run.outputs;
                assert.strictEqual(o.iotEndpoint, `a1b2c3d4e5f6g7-ats.iot.${cfg.region}.amazonaws.com`);
                if (oemCa) {
                    assert.deepStrictEqual([o.provisioningTemplateName, o.claimCertificateArn, o.claimCertificateBucket, o.oemCaFleetName], [undefined, undefined, undefined, cfg.provisioning.templateName]);
                } else {
                    assert.strictEqual(o.provisioningTemplateName, cfg.provisioning.templateName);
                    assert.match(String(o.claimCertificateArn), new RegExp(`^arn:aws:iot:${cfg.region}:${ACCOUNT_ID}:cert/[0-9a-f]{64}$`));
                    assert.strictEqual(o.claimCertificateBucket, run.one("aws:s3/bucket:Bucket", "-pems-bucket").state.bucket);
                    assert.ok((o.claimCertificateObjects as Record<string, string>).privateKey.endsWith("/private.pem.key"));
                }
                assert.strictEqual(o.registryTableName, run.one("aws:dynamodb/table:Table", "-registry").state.name);
                assert.ok(!JSON.stringify(o).includes("PRIVATE KEY"));
            });
        });
    }

    it("the private key is a secret output of the dynamic resource and of the component", async () => {
        const { ClaimCertificate } = await import("../components/provisioning/claimCertificate");
        const { unwrap } = await import("../plan/program");
        const run = await runStack("dev");
        assert.deepStrictEqual(run.one("pulumi-nodejs:dynamic/iot:ClaimCertificate").additionalSecretOutputs, ["privateKeyPem"]);
        const component = new ClaimCertificate("secret-check-component", {
            ctx: { partition: "aws", region: "ap-northeast-2", accountId: ACCOUNT_ID }, namePrefix: "fms-t", region: "ap-northeast-2",
            rotation: "1", status: "ACTIVE", templateNames: ["t"], clientIdPrefix: "claim-", deviceKeys: "device", kmsKeyArn: "arn:aws:kms:ap-northeast-2:123456789012:key/k", protect: false,
        });
        assert.strictEqual((await unwrap(component.privateKeyPem)).secret, true);
    });

    it("CSR mode: no private key object, and the CSR goes to the provider", async () => {
        const { makeCsr } = await import("./support/x509");
        const { csrPem } = await makeCsr();
        const run = await runStack("kr", { edit: (c) => {
            c["fms-iot:claimCertificate"] = JSON.stringify({ rotation: "2026-11", csrPem });
        } });
        assert.strictEqual(run.one("pulumi-nodejs:dynamic/iot:ClaimCertificate").inputs.csrPem, csrPem);
        assert.deepStrictEqual(run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.inputs.key.startsWith("claim-certificate/")).map((o) => o.inputs.key.split("/").pop()).sort(), ["certificate.pem.crt", "public.pem.key"]);
        assert.strictEqual((run.outputs.claimCertificateObjects as Record<string, unknown>).privateKey, undefined);
    });
});
