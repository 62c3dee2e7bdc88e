/**
 * The guardrails as a publishable Pulumi policy pack, checked the way Pulumi uses one: `npm pack` (what
 * `pulumi policy publish` uploads), a clean install of the tarball in a temp dir from its own shrinkwrap (what the
 * CLI does with a downloaded or local pack), then Pulumi's own policy-pack runner
 * (`@pulumi/pulumi/cmd/run-policy-pack`, the program the CLI starts for a Node.js pack: it type-checks the pack
 * with ts-node and prints the analyzer's gRPC port), asked over gRPC as the engine asks it.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
    AnalyzeRequest, AnalyzeResponse, AnalyzeStackRequest, AnalyzerInfo, AnalyzerPropertyDependencies, AnalyzerResource, AnalyzerResourceOptions, EnforcementLevel,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { PROJECT_ROOT } from "../config/stackFile";
import { evaluate, ResourceView, RULES } from "../guardrails/rules";
import { runStack } from "../plan/program";
import { views } from "../plan/report";

const PACK_DIR = path.join(PROJECT_ROOT, "guardrails");
const npm = (args: string[], cwd: string) =>
    execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 });

/** `name@version` of every package a lock file installs. */
const lockedPackages = (file: string): Set<string> => new Set(Object.entries(JSON.parse(fs.readFileSync(file, "utf8")).packages as Record<string, { version?: string }>)
    .filter(([k]) => k !== "").map(([k, v]) => `${k.replace(/.*node_modules\//, "")}@${v.version}`));

/** Properties as the engine sends them: JSON values, a secret as Pulumi's signature object (plan/report reveals them). */
const struct = (props: Record<string, unknown>) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));

/** The fields a resource has in both an AnalyzeRequest and an AnalyzeStackRequest's AnalyzerResource. */
interface ResourceMessage {
    setType(v: string): unknown; setName(v: string): unknown; setUrn(v: string): unknown;
    setProperties(v?: Struct): unknown; setOptions(v?: AnalyzerResourceOptions): unknown;
}
function describeResource<T extends ResourceMessage>(msg: T, r: ResourceView): T {
    msg.setType(r.type);
    msg.setName(r.name);
    msg.setUrn(r.urn);
    msg.setProperties(struct(r.props));
    msg.setOptions(new AnalyzerResourceOptions()); // the engine always sends options; the runner refuses a request without
    return msg;
}

const analyzeRequest = (r: ResourceView) => describeResource(new AnalyzeRequest(), r);

function analyzerResource(r: ResourceView): AnalyzerResource {
    const res = describeResource(new AnalyzerResource(), r);
    res.setDependenciesList(r.dependencies);
    // The program's dependencies, as the engine reports them per property (the rules read both lists).
    res.getPropertydependenciesMap().set("", new AnalyzerPropertyDependencies().setUrnsList(r.dependencies));
    return res;
}

function call<Res>(fn: (cb: (err: grpc.ServiceError | null, res: Res) => void) => void): Promise<Res> {
    return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

describe("guardrails as a standalone policy pack", function () {
    this.timeout(120_000);
    let tmp: string;
    let files: string[];
    let runner: ChildProcess | undefined;
    let client: AnalyzerClient;
    let stderr = "";

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fms-guardrails-pack-"));
        const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", tmp], PACK_DIR));
        files = packed[0].files.map((f: { path: string }) => f.path).sort();
        const installed = path.join(tmp, "installed");
        fs.mkdirSync(installed);
        execFileSync("tar", ["xzf", path.join(tmp, packed[0].filename), "-C", installed, "--strip-components=1"]);
        // Nothing of the repository is reachable from here: no ../tsconfig.json, no root node_modules.
        // Offline, from the npm cache the project's own `npm ci` filled: the pack's shrinkwrap installs only versions
        // the project's lock file has (a test below holds it to that), so no registry is needed, and none is waited on.
        try {
            npm(["ci", "--offline"], installed);
        } catch (err) {
            // A machine whose node_modules did not come through its npm cache: the same versions, from the project.
            if (!/ENOTCACHED/.test(String((err as { stderr?: string }).stderr))) throw err;
            fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(installed, "node_modules"), "dir");
            console.warn("guardrails pack: npm cache empty, installed from the project's node_modules (same versions)");
        }
        runner = spawn(process.execPath, [path.join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"), "127.0.0.1:1", "."], {
            cwd: installed, stdio: ["ignore", "pipe", "pipe"],
        });
        runner.stderr!.on("data", (d) => { stderr += d; });
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            runner!.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) resolve(Number(m[1]));
            });
            runner!.on("exit", (code) => reject(new Error(`the policy-pack runner exited with ${code} before serving:\n${stderr}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        runner?.kill();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("packs only the pack: its sources, PulumiPolicy.yaml, its own tsconfig and its shrinkwrapped dependencies", () => {
        assert.deepStrictEqual(files, ["PulumiPolicy.yaml", "index.ts", "npm-shrinkwrap.json", "package.json", "policies.ts", "rules.ts", "tsconfig.json"]);
        const tsconfig = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "tsconfig.json"), "utf8"));
        assert.strictEqual(tsconfig.extends, undefined, "a packed tsconfig cannot extend a file outside the pack (TS5058)");
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8"));
        for (const dep of ["@pulumi/policy", "@pulumi/pulumi", "typescript", "ts-node"]) assert.ok(pkg.dependencies[dep], dep);
    });

    it("its shrinkwrap installs only versions the project's lock has (so it installs offline; guardrails/package.json overrides pin strays)", () => {
        const root = lockedPackages(path.join(PROJECT_ROOT, "package-lock.json"));
        const strays = [...lockedPackages(path.join(PACK_DIR, "npm-shrinkwrap.json"))].filter((p) => !root.has(p));
        assert.deepStrictEqual(strays, []);
    });

    it("loads in Pulumi's policy-pack runner, type-checked, and lists every guardrail with its enforcement level", async () => {
        const info = await call<AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));
        assert.strictEqual(info.getName(), "fms-iot-guardrails");
        const listed = info.getPoliciesList().map((p) => ({ name: p.getName(), level: p.getEnforcementlevel() }));
        const level = (l: string) => (l === "mandatory" ? EnforcementLevel.MANDATORY : EnforcementLevel.ADVISORY);
        assert.deepStrictEqual(
            listed.sort((a, b) => a.name.localeCompare(b.name)),
            RULES.map((r) => ({ name: r.name, level: level(r.level) })).sort((a, b) => a.name.localeCompare(b.name)),
        );
        assert.doesNotMatch(stderr, /error/i);
    });

    it("fails a wildcard IAM policy and passes a scoped one when the engine sends them", async () => {
        const analyze = (name: string, document: unknown) => call<AnalyzeResponse>((cb) => client.analyze(analyzeRequest({
            type: "aws:iam/policy:Policy", name, urn: `urn:pulumi:kr::fms-iot::aws:iam/policy:Policy::${name}`, props: { policy: JSON.stringify(document) }, dependencies: [],
        }), cb));
        const wild = await analyze("too-wide", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iot:*", Resource: "*" }] });
        const found = wild.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));
        const hit = found.find((d) => d.policy === "no-wildcard-actions-on-any-resource");
        assert.ok(hit, JSON.stringify(found));
        assert.strictEqual(hit.level, EnforcementLevel.MANDATORY);
        assert.match(hit.message, /iot:\*/);
        const scoped = await analyze("scoped", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iot:DescribeThing", Resource: "arn:aws:iot:ap-northeast-2:123456789012:thing/kr-vehicle-*" }] });
        assert.deepStrictEqual(scoped.getDiagnosticsList().map((d) => d.getPolicyname()), []);
    });

    it("finds in Pulumi's runner exactly what `npm run plan` finds offline, on kr's resources with three faults put in", async () => {
        const resources = views(await runStack("kr"));
        const byType = (t: string) => resources.find((r) => r.type === t)!;
        byType("aws:kms/key:Key").props.enableKeyRotation = false; // a resource rule
        const iotPolicy = byType("aws:iot/policy:Policy");
        const doc = JSON.parse(iotPolicy.props.policy);
        doc.Statement.push({ Effect: "Allow", Action: "iot:*", Resource: "*" });
        iotPolicy.props.policy = JSON.stringify(doc); // a resource rule on an IoT policy
        byType("pulumi:providers:aws").props.profile = "someone-else"; // a stack rule (providers-share-credentials)

        const offline = evaluate(resources);
        const seen: { policy: string; urn: string; level: EnforcementLevel }[] = [];
        const collect = (res: AnalyzeResponse, urn?: string) => {
            for (const d of res.getDiagnosticsList()) seen.push({ policy: d.getPolicyname(), urn: d.getUrn() || urn || "", level: d.getEnforcementlevel() });
        };
        // As the engine does in a preview: Analyze for each resource as it is planned, AnalyzeStack once at the end.
        for (const r of resources) collect(await call<AnalyzeResponse>((cb) => client.analyze(analyzeRequest(r), cb)), r.urn);
        const stackReq = new AnalyzeStackRequest().setResourcesList(resources.map(analyzerResource));
        collect(await call<AnalyzeResponse>((cb) => client.analyzeStack(stackReq, cb)));

        const key = (f: { policy: string; urn: string }) => `${f.policy} ${f.urn}`;
        const level = (l: string) => (l === "mandatory" ? EnforcementLevel.MANDATORY : EnforcementLevel.ADVISORY);
        assert.deepStrictEqual(
            seen.map((f) => `${key(f)} ${f.level}`).sort(),
            offline.map((f) => `${key(f)} ${level(f.level)}`).sort(),
        );
        const policies = new Set(offline.map((f) => f.policy));
        for (const p of ["kms-key-rotation", "no-wildcard-actions-on-any-resource", "providers-share-credentials"]) assert.ok(policies.has(p), p);
    });
});
