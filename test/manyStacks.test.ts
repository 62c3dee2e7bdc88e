import * as assert from "assert";
import { canShare } from "../config/crossStack";
import { stackConfigFromEngine, StackConfig } from "../config/stackConfig";
import { readStackFile, stackNames } from "../config/stackFile";
import { ProgramRun, runStack } from "../plan/program";
import { physicalNames } from "./support/physicalNames";

interface Planned { stack: string; cfg: StackConfig; run: ProgramRun }

/** The account a stack file pins (aws:allowedAccountIds), or undefined: then it is taken to share every account. */
const accountsOf = (p: Planned): string[] | undefined => p.cfg.allowedAccountIds;
const shareAccount = (a: Planned, b: Planned) => !accountsOf(a) || !accountsOf(b) || accountsOf(a)!.some((x) => accountsOf(b)!.includes(x));

const overlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

describe("many stacks, one account: every shipped Pulumi.<stack>.yaml against every other", function () {
    this.timeout(120_000);
    const planned: Planned[] = [];
    before(async () => {
        for (const stack of stackNames()) {
            const f = readStackFile(stack);
            planned.push({ stack, cfg: stackConfigFromEngine(f.project, stack, f.config), run: await runStack(stack) });
        }
    });

    const pairs = () => planned.flatMap((a, i) => planned.slice(i + 1).map((b) => [a, b] as const)).filter(([a, b]) => shareAccount(a, b));

    it("no two stacks that may share an account create the same physical name (IAM per account, the rest per region)", () => {
        let compared = 0;
        for (const [a, b] of pairs()) {
            const sameRegion = a.cfg.region === b.cfg.region;
            const names = (p: Planned) => physicalNames(p.run).filter((n) => n.scope === "account" || sameRegion).map((n) => n.key);
            const shared = names(a).filter((n) => names(b).includes(n));
            assert.deepStrictEqual(shared, [], `${a.stack} and ${b.stack} would both create these`);
            compared++;
        }
        assert.ok(compared >= 3, "dev, kr and jp compared pairwise");
    });

    it("in one account and region, exactly one stack owns the region settings and every stack names it", () => {
        for (const p of planned) {
            // The stacks that can share p's account and region (config/crossStack.ts canShare), p among them.
            const sharing = planned.filter((q) => q === p || canShare(p.cfg, q.cfg));
            const owners = sharing.filter((q) => q.cfg.operations.ownsRegionSettings).map((q) => q.stack);
            if (p.cfg.operations.ownsRegionSettings) assert.deepStrictEqual(owners, [p.stack], `${p.stack}: owners ${owners.join(", ")}`);
            else assert.deepStrictEqual(owners.filter((o) => o === p.cfg.operations.regionSettingsOwner), [p.cfg.operations.regionSettingsOwner], `${p.stack} names an owner that shares its account and region`);
            const created = p.run.ofType("pulumi-nodejs:dynamic/iot:RegionSettings").length > 0;
            assert.strictEqual(created, p.cfg.operations.ownsRegionSettings, `${p.stack}: region settings created by the owner only`);
        }
        const korea = planned.filter((p) => p.cfg.region === "ap-northeast-2").map((p) => p.stack);
        assert.ok(korea.includes("dev") && korea.includes("kr"), "dev and kr share ap-northeast-2");
    });

    it("in one account and region, at most one stack owns AWS IoT's certificate provider, and then every stack there is privateCa naming it", () => {
        // AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider": one
        // provider per account, and with it every CreateCertificateFromCsr of fleet provisioning there goes through its
        // Lambda: a claim stack sharing the account and region would have its vehicles signed by the owner's CA.
        const groups = new Map<string, Planned[]>();
        for (const p of planned) groups.set(p.cfg.region, [...(groups.get(p.cfg.region) ?? []), p]);
        let checked = 0;
        for (const [region, stacks] of groups) {
            const owners = stacks.filter((p) => p.cfg.provisioning.identity.privateCa?.ownsCertificateProvider);
            const created = stacks.filter((p) => p.run.ofType("aws-native:iot:CertificateProvider").length > 0).map((p) => p.stack);
            assert.deepStrictEqual(created, owners.map((p) => p.stack), `${region}: only the owner creates the provider`);
            for (const owner of owners) {
                for (const p of stacks.filter((x) => x !== owner && shareAccount(x, owner))) {
                    assert.strictEqual(p.cfg.provisioning.identity.privateCa?.certificateProviderOwner, owner.stack, `${p.stack} shares ${owner.stack}'s account and region: privateCa naming ${owner.stack}, or another account`);
                    assert.strictEqual(p.cfg.provisioning.identity.privateCa?.certificateAuthorityArn, owner.cfg.provisioning.identity.privateCa!.certificateAuthorityArn, `${p.stack}: the owner's CA signs its vehicles`);
                }
                checked++;
            }
        }
        assert.ok(checked >= 1, "au owns ap-southeast-2's provider");
    });

    it("Thing names and MQTT client ids are account-wide: no stack's vehicle, core or claim prefix overlaps another's", () => {
        const spaces = (p: Planned) => [
            ["vehicle Things", p.cfg.provisioning.thingNamePrefix],
            ["claim client ids", p.cfg.provisioning.claimClientIdPrefix],
            ...(p.cfg.greengrass ? [["core Things", p.cfg.greengrass.coreThingNamePrefix]] : []),
        ] as [string, string][];
        for (const [a, b] of pairs().filter(([x, y]) => x.cfg.region === y.cfg.region)) {
            for (const [whatA, prefixA] of spaces(a)) {
                for (const [whatB, prefixB] of spaces(b)) {
                    assert.ok(!overlap(prefixA, prefixB), `${a.stack}'s ${whatA} (${prefixA}*) and ${b.stack}'s ${whatB} (${prefixB}*) overlap`);
                }
            }
        }
    });
});
