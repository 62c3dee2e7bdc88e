/**
 * The privateCa identity mode in the plan (components/provisioning/privateCaIssuer.ts, wired in index.ts): what the
 * certificate-provider owner stack (au) creates, with which inputs; what a claim stack and a privateCa stack that
 * does not own the provider create (nothing of it); the CA's state checked at preview.
 */
import * as assert from "assert";
import { ProgramRun, RecordedResource, runStack } from "../plan/program";
import { bundleHandler } from "../components/lambdaBundle";
import { CERTIFICATE_PROVIDER_ENTRY, certificateAuthorityProblem, ISSUED_PATTERN, REFUSED_PATTERN } from "../components/provisioning/privateCaIssuer";
import { isSecretValue, parsePolicy, statement } from "./support/assertions";
import { makeCsr } from "./support/x509";
import { GetCertificateCommand, IssueCertificateCommand } from "@aws-sdk/client-acm-pca";
import { configFromEnv as providerConfig, createHandler as createProvider } from "../components/provisioning/lambda/certificateProvider";
import { FakeClient } from "./support/fakeClient";
import { PrivateCaDouble } from "./support/privateCaDouble";

const CA = "arn:aws:acm-pca:ap-southeast-2:210987654321:certificate-authority/5d0c7e2a-8b41-4f6e-9a3d-2c1b0e9f8a76";
const TEMPLATE = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1";
const NATIVE_PROVIDER = "aws-native:iot:CertificateProvider";

const identity = (change: (i: Record<string, any>) => void) => (c: Record<string, string>) => {
    const p = JSON.parse(c["fms-iot:provisioning"]);
    p.identity ??= {};
    change(p.identity);
    c["fms-iot:provisioning"] = JSON.stringify(p);
};

/** URN -> inputs, for comparing two plans resource by resource. */
const byUrn = (run: ProgramRun) => new Map(run.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));

describe("privateCa in the plan: the certificate-provider owner's resources", function () {
    this.timeout(120_000);
    let au: ProgramRun;
    const one = (type: string, suffix: string): RecordedResource => au.one(type, suffix);
    before(async () => { au = await runStack("au"); });

    it("one component (fms:iot:PrivateCaIssuer) parents the function, its role, policy and logs, the permission, the provider, the CA registration, its metrics and alarms", () => {
        const component = au.one("fms:iot:PrivateCaIssuer");
        const children = au.resources.filter((r) => r.parent === component.urn).map((r) => `${r.type} ${r.name}`).sort();
        assert.deepStrictEqual(children, [
            "aws-native:iot:CertificateProvider fms-au-private-ca-provider",
            "aws:cloudwatch/logGroup:LogGroup fms-au-private-ca-fn-logs",
            "aws:cloudwatch/logMetricFilter:LogMetricFilter fms-au-private-ca-issued",
            "aws:cloudwatch/logMetricFilter:LogMetricFilter fms-au-private-ca-refused",
            "aws:cloudwatch/metricAlarm:MetricAlarm fms-au-private-ca-issued-per-hour",
            "aws:cloudwatch/metricAlarm:MetricAlarm fms-au-private-ca-refusals",
            "aws:iam/role:Role fms-au-private-ca-fn-role",
            "aws:iam/rolePolicy:RolePolicy fms-au-private-ca-fn-policy",
            "aws:iot/caCertificate:CaCertificate fms-au-private-ca-ca",
            "aws:lambda/function:Function fms-au-private-ca-fn",
            "aws:lambda/permission:Permission fms-au-private-ca-invoke",
        ]);
    });

    it("the function: the stack's CA, template, signing algorithm, validity and organization in its (non-secret) environment; a timeout over its wait", () => {
        const fn = one("aws:lambda/function:Function", "-private-ca-fn");
        assert.strictEqual(fn.inputs.name, "fms-au-certificate-provider");
        assert.deepStrictEqual(fn.inputs.environment.variables, {
            CA_ARN: CA, TEMPLATE_ARN: TEMPLATE, SIGNING_ALGORITHM: "SHA256WITHECDSA", VALIDITY_DAYS: "365", ORGANIZATION: "Maker Motors Australia Pty Ltd",
        });
        assert.strictEqual(fn.inputs.timeout, 10);
        assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
    });

    it("the function's bundle: the runtime's AWS SDK (not shipped), the CSR parsers bundled, deterministic", () => {
        const code = bundleHandler(CERTIFICATE_PROVIDER_ENTRY);
        assert.match(code, /require\("@aws-sdk\/client-acm-pca"\)/);
        assert.ok(!code.includes("@smithy"), "no SDK code bundled");
        assert.ok(!/require\("@peculiar/.test(code), "the ASN.1 parsers are bundled (not on the runtime)");
        assert.strictEqual(bundleHandler(CERTIFICATE_PROVIDER_ENTRY), code);
    });

    it("its role: its own logs; IssueCertificate on the stack's CA with acm-pca:TemplateArn = the template; GetCertificate on that CA; nothing else", () => {
        const doc = parsePolicy(one("aws:iam/rolePolicy:RolePolicy", "-private-ca-fn-policy").inputs.policy);
        assert.deepStrictEqual(doc.Statement.map((s) => s.Sid), ["OwnLogs", "IssueFromStackCaWithTemplate", "ReadIssuedCertificates"]);
        assert.deepStrictEqual(statement(doc, "IssueFromStackCaWithTemplate"), {
            Sid: "IssueFromStackCaWithTemplate", Effect: "Allow", Action: ["acm-pca:IssueCertificate"], Resource: [CA],
            Condition: { StringEquals: { "acm-pca:TemplateArn": TEMPLATE } },
        });
        assert.deepStrictEqual(statement(doc, "ReadIssuedCertificates").Resource, [CA]);
        assert.deepStrictEqual(statement(doc, "OwnLogs").Resource, ["arn:aws:logs:ap-southeast-2:123456789012:log-group:/aws/lambda/fms-au-certificate-provider:*"]);
    });

    it("AWS IoT may invoke it on behalf of this certificate provider in this account only (source ARN and account)", () => {
        const p = one("aws:lambda/permission:Permission", "-private-ca-invoke");
        assert.deepStrictEqual(p.inputs, {
            action: "lambda:InvokeFunction", function: "fms-au-certificate-provider", principal: "iot.amazonaws.com",
            sourceAccount: "123456789012", sourceArn: "arn:aws:iot:ap-southeast-2:123456789012:certprovider/fms-au-certificate-provider",
        });
    });

    it("the certificate provider: CreateCertificateFromCsr to that function, created after the permission", () => {
        const provider = one(NATIVE_PROVIDER, "-provider");
        const fn = one("aws:lambda/function:Function", "-private-ca-fn");
        assert.deepStrictEqual(provider.inputs, {
            certificateProviderName: "fms-au-certificate-provider", lambdaFunctionArn: fn.state.arn, accountDefaultForOperations: ["CreateCertificateFromCsr"],
        });
        assert.ok(provider.dependencies.includes(one("aws:lambda/permission:Permission", "-private-ca-invoke").urn));
        assert.ok(provider.provider?.includes("pulumi:providers:aws-native"), "through the stack's aws-native provider");
    });

    it("the Private CA's certificate is registered SNI_ONLY (no verification certificate: its key stays in AWS Private CA), active, never auto-registering, retained on delete", () => {
        const ca = one("aws:iot/caCertificate:CaCertificate", "-ca");
        const { caCertificatePem, ...rest } = ca.inputs;
        assert.deepStrictEqual(rest, { certificateMode: "SNI_ONLY", active: true, allowAutoRegistration: false });
        // The aws provider holds caCertificatePem as a secret (its schema); the value is the CA's certificate as AWS Private CA gives it.
        assert.ok(isSecretValue(caCertificatePem));
        assert.strictEqual(caCertificatePem.value, "-----BEGIN CERTIFICATE-----\nMOCK-PRIVATE-CA\n-----END CERTIFICATE-----\n");
        assert.strictEqual(ca.retainOnDelete, true);
    });

    it("every decision is a metric; any refusal, and issuance beyond the factory's hourly output, alarm on the operations topic", () => {
        const topic = au.outputs.operationsTopicArn;
        const filter = (suffix: string) => one("aws:cloudwatch/logMetricFilter:LogMetricFilter", suffix).inputs;
        assert.deepStrictEqual(filter("-private-ca-issued"), {
            logGroupName: "/aws/lambda/fms-au-certificate-provider", pattern: '{ $.event = "certificate-provider-decision" && $.issued IS TRUE }',
            metricTransformation: { namespace: "FMS/IoT/fms-au", name: "CertificatesIssued", value: "1", defaultValue: "0", unit: "Count" },
        });
        assert.strictEqual(filter("-private-ca-refused").pattern, '{ $.event = "certificate-provider-decision" && $.issued IS FALSE }');
        const refusals = one("aws:cloudwatch/metricAlarm:MetricAlarm", "-private-ca-refusals").inputs;
        assert.deepStrictEqual([refusals.metricName, refusals.period, refusals.threshold, refusals.alarmActions, refusals.okActions], ["CertificateRequestsRefused", 300, 1, [topic], [topic]]);
        const issued = one("aws:cloudwatch/metricAlarm:MetricAlarm", "-private-ca-issued-per-hour").inputs;
        assert.deepStrictEqual([issued.metricName, issued.period, issued.threshold, issued.alarmActions], ["CertificatesIssued", 3600, 1000, [topic]], "production's provisioningsPerHour");
    });

    it("the filters match the very lines the signer writes (an issuance, a refusal), and not the hook's", async () => {
        const env = one("aws:lambda/function:Function", "-private-ca-fn").inputs.environment.variables;
        const pca = await PrivateCaDouble.create(env.CA_ARN);
        const client = new FakeClient();
        client.on(IssueCertificateCommand).callsFake((input) => pca.issue(input));
        client.on(GetCertificateCommand).callsFake((input) => pca.get(input));
        const lines: Record<string, unknown>[] = [];
        const signer = createProvider({ config: providerConfig(env), pca: client as never, log: (l) => lines.push(JSON.parse(l)), sleep: async () => undefined, now: () => 0, issueWaitMs: 1000, pollMs: 10 });
        await signer({ certificateSigningRequest: (await makeCsr("CN=297468000123")).csrPem, principalId: "c".repeat(64), clientId: "au-claim-1" });
        await assert.rejects(signer({ certificateSigningRequest: "not a CSR", principalId: "c".repeat(64), clientId: "au-claim-2" }));
        // The patterns' terms, evaluated as CloudWatch Logs does on JSON: equality on $.event, IS TRUE / IS FALSE on $.issued.
        const matches = (pattern: string, line: Record<string, unknown>) => {
            const m = /^\{ \$\.event = "([^"]+)" && \$\.issued IS (TRUE|FALSE) \}$/.exec(pattern)!;
            return line.event === m[1] && line.issued === (m[2] === "TRUE");
        };
        assert.deepStrictEqual(lines.map((l) => [matches(ISSUED_PATTERN, l), matches(REFUSED_PATTERN, l)]), [[true, false], [false, true]]);
        assert.ok(!matches(REFUSED_PATTERN, { event: "provisioning-decision", allowProvisioning: false }), "not the hook's lines");
    });

    it("exports the provider's function, ARN and the registered CA's id", () => {
        assert.strictEqual(au.outputs.certificateProviderFunction, "fms-au-certificate-provider");
        assert.strictEqual(au.outputs.certificateProviderArn, "arn:aws:iot:ap-southeast-2:123456789012:certprovider/fms-au-certificate-provider");
        assert.match(au.outputs.privateCaCertificateId as string, /^[0-9a-f]{64}$/);
    });

    it("the hook, the rotation template and the registry are there as in a claim stack (they decide RegisterThing as before)", () => {
        const hook = one("aws:lambda/function:Function", "-provisioning-hook");
        assert.strictEqual(hook.inputs.environment.variables.BIND_KEYS, "true", "key-bound serials");
        assert.strictEqual(au.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").length, 2, "provisioning and rotation");
        assert.ok(au.ofType("pulumi-nodejs:dynamic/iot:ClaimCertificate").length === 1, "vehicles still provision by claim");
    });
});

describe("privateCa in the plan: stacks that create none of it", function () {
    this.timeout(120_000);

    it("claim stacks (dev, kr, jp) create no certificate provider, CA registration or signer", async () => {
        for (const stack of ["dev", "kr", "jp"]) {
            const run = await runStack(stack);
            assert.deepStrictEqual(run.ofType(NATIVE_PROVIDER), [], stack);
            assert.deepStrictEqual(run.ofType("fms:iot:PrivateCaIssuer"), [], stack);
            assert.deepStrictEqual(run.ofType("aws:iot/caCertificate:CaCertificate"), [], stack);
            assert.strictEqual(run.outputs.certificateProviderFunction, undefined, stack);
        }
    });

    it("a claim stack plans exactly as before: mode claim written out changes no resource of kr", async () => {
        const before = byUrn(await runStack("kr"));
        const after = byUrn(await runStack("kr", { edit: identity((i) => { i.mode = "claim"; }) }));
        assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort());
        for (const [urn, inputs] of before) assert.strictEqual(after.get(urn), inputs, urn);
    });

    it("a privateCa stack that names another stack as the provider's owner creates none of it (one provider per account and region)", async () => {
        const run = await runStack("au", { edit: identity((i) => { i.privateCa.certificateProviderOwner = "kr"; }) });
        assert.deepStrictEqual(run.ofType(NATIVE_PROVIDER), []);
        assert.deepStrictEqual(run.ofType("aws:iot/caCertificate:CaCertificate"), []);
        assert.deepStrictEqual(run.resources.filter((r) => r.name.includes("private-ca")), []);
    });
});

describe("privateCa: the CA as AWS Private CA describes it (checked at preview)", () => {
    const args = { certificateAuthorityArn: CA, validityDays: 30 };

    it("an ACTIVE general-purpose CA issues", () => {
        assert.strictEqual(certificateAuthorityProblem(args, { status: "ACTIVE", usageMode: "GENERAL_PURPOSE" }), undefined);
        assert.strictEqual(certificateAuthorityProblem({ ...args, validityDays: 7 }, { status: "ACTIVE", usageMode: "SHORT_LIVED_CERTIFICATE" }), undefined);
    });

    it("a CA that is not ACTIVE fails the preview, naming the key and the state", () => {
        for (const status of ["PENDING_CERTIFICATE", "DISABLED", "EXPIRED", "DELETED", "CREATING", "FAILED"]) {
            assert.match(certificateAuthorityProblem(args, { status, usageMode: "GENERAL_PURPOSE" })!, new RegExp(`privateCa\\.certificateAuthorityArn: .* is ${status}; it must be ACTIVE`));
        }
    });

    it("a short-lived-certificate CA with a validity over 7 days fails the preview", () => {
        assert.match(certificateAuthorityProblem(args, { status: "ACTIVE", usageMode: "SHORT_LIVED_CERTIFICATE" })!, /validityDays: 30, but .* is a short-lived-certificate CA \(at most 7 days\)/);
    });
});
