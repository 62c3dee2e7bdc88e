import * as assert from "assert";
import { ALARMS_PER_WIDGET, dashboardBody, dashboardWidgets, PER_RULE_LINES } from "../components/operations/dashboard";
import { documented, DOCUMENTED_METRICS, FLEET_METRIC_NAMESPACE } from "../components/operations/dashboardMetrics";
import { metricNamespace } from "../components/operations/operations";
import { EXPIRING_METRIC } from "../components/provisioning/lambda/certificateRotation";
import { DISABLED_METRIC } from "../components/routing/lambda/destinationWatch";
import { readStackFile, stackNames } from "../config/stackFile";
import { ProgramRun, runStack } from "../plan/program";

/** One metric a widget shows: namespace, name, dimension names and values (a Metrics Insights query: its SCHEMA and WHERE). */
interface Shown { widget: string; namespace: string; metric: string; dimensions: Record<string, string | undefined> }

function shownMetrics(body: string): { titles: string[]; shown: Shown[]; alarms: string[] } {
    const doc = JSON.parse(body) as { widgets: { type: string; properties: { title: string; metrics?: unknown[][]; alarms?: string[] } }[] };
    const shown: Shown[] = [];
    let alarms: string[] = [];
    for (const w of doc.widgets) {
        if (w.type === "alarm") { alarms = [...alarms, ...w.properties.alarms!]; continue; }
        for (const line of w.properties.metrics!) {
            if (typeof line[0] === "string") {
                const parts = line.filter((p) => typeof p === "string") as string[];
                const [namespace, metric, ...pairs] = parts;
                const dimensions: Record<string, string> = {};
                for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
                shown.push({ widget: w.properties.title, namespace, metric, dimensions });
            } else {
                const q = (line[0] as { expression: string }).expression;
                const m = /^SELECT (?:SUM|MAX|AVG|MIN|COUNT)\((\w+)\) FROM SCHEMA\("([^"]+)", ([\w, ]+)\)(?: WHERE (\w+) = '([\w-]+)')?(?: GROUP BY (\w+)(?: ORDER BY SUM\(\) DESC LIMIT \d+)?)?$/.exec(q);
                assert.ok(m, `${w.properties.title}: not a Metrics Insights query this test reads: ${q}`);
                const dimensions: Record<string, string | undefined> = Object.fromEntries(m[3].split(",").map((d) => [d.trim(), undefined]));
                if (m[4]) dimensions[m[4]] = m[5];
                shown.push({ widget: w.properties.title, namespace: m[2], metric: m[1], dimensions });
            }
        }
    }
    return { titles: doc.widgets.map((w) => w.properties.title), shown, alarms };
}

/**
 * The stack's own metrics, from its plan: every log metric filter (namespace, name, dimension names), and
 * the two its Lambdas publish with PutMetricData into the namespace their environment names
 * (components/provisioning/lambda/certificateRotation.ts publishExpiring; components/routing/lambda/destinationWatch.ts).
 */
function ownMetrics(run: ProgramRun): { namespace: string; metric: string; dimensions: string[] }[] {
    const fromFilters = run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => ({
        namespace: f.inputs.metricTransformation.namespace, metric: f.inputs.metricTransformation.name,
        dimensions: Object.keys(f.inputs.metricTransformation.dimensions ?? {}).sort(),
    }));
    const fromLambdas = run.ofType("aws:lambda/function:Function").flatMap((fn) => {
        const env = fn.inputs.environment?.variables ?? {};
        if (!env.METRIC_NAMESPACE) return [];
        if (fn.inputs.name.endsWith("-rotation-sweep")) return [{ namespace: env.METRIC_NAMESPACE, metric: EXPIRING_METRIC, dimensions: [] }];
        if (fn.inputs.name.endsWith("-destination-watch")) return [{ namespace: env.METRIC_NAMESPACE, metric: DISABLED_METRIC, dimensions: [] }];
        return [];
    });
    return [...fromFilters, ...fromLambdas];
}

function checkDashboard(run: ProgramRun, features: { routing: boolean; greengrass: boolean; fleetIndex: boolean }): void {
    const config = readStackFile(run.stack).config;
    const prefix = JSON.parse(JSON.stringify(config["fms-iot:namePrefix"]));
    const dashboard = run.one("aws:cloudwatch/dashboard:Dashboard");
    assert.strictEqual(dashboard.inputs.dashboardName, `${prefix}-fleet`);
    assert.strictEqual(run.outputs.dashboardUrl, `https://console.aws.amazon.com/cloudwatch/home?region=${run.region}#dashboards/dashboard/${prefix}-fleet`);
    const { titles, shown, alarms } = shownMetrics(dashboard.inputs.dashboardBody);
    const own = ownMetrics(run);
    const fleetMetrics = run.ofType("aws-native:iot:FleetMetric").map((m) => m.inputs.metricName);
    const names = (type: string, field: string) => run.ofType(type).map((r) => r.inputs[field]);
    // What each dimension's value must be: one of this stack's own resources.
    const belongs: Record<string, (v: string) => boolean> = {
        FunctionName: (v) => names("aws:lambda/function:Function", "name").includes(v),
        QueueName: (v) => names("aws:sqs/queue:Queue", "name").includes(v),
        RuleName: (v) => names("aws:iot/topicRule:TopicRule", "name").includes(v),
        TemplateName: (v) => names("aws:iot/provisioningTemplate:ProvisioningTemplate", "name").includes(v),
        ClaimCertificateId: (v) => v === run.outputs.claimCertificateId,
        RoleAliasName: (v) => names("aws:iot/roleAlias:RoleAlias", "alias").includes(v),
        Protocol: (v) => v === "MQTT",
        AggregationType: (v) => v === "count",
    };
    for (const s of shown) {
        const dims = Object.keys(s.dimensions).sort();
        const where = `${run.stack}, "${s.widget}": ${s.namespace} ${s.metric} [${dims.join(", ")}]`;
        const ok = documented(s.namespace, s.metric, dims)
            || (s.namespace === metricNamespace(prefix) && own.some((o) => o.namespace === s.namespace && o.metric === s.metric && o.dimensions.join() === dims.join()))
            || (s.namespace === FLEET_METRIC_NAMESPACE.namespace && fleetMetrics.includes(s.metric) && dims.join() === FLEET_METRIC_NAMESPACE.dimensions.join());
        assert.ok(ok, `${where}: neither in AWS's metric documentation (DOCUMENTED_METRICS) nor one of the stack's own metrics`);
        for (const [d, v] of Object.entries(s.dimensions)) {
            if (v === undefined) continue;
            assert.ok(belongs[d], `${where}: no check for dimension ${d}`);
            assert.ok(belongs[d](v), `${where}: ${d} = ${v} is not this stack's`);
        }
    }
    // A section only for what the stack has.
    const has = (section: string) => titles.some((t) => t.startsWith(section));
    assert.strictEqual(has("Routing:"), features.routing, `${run.stack}: routing widgets`);
    assert.strictEqual(has("Greengrass:"), features.greengrass, `${run.stack}: Greengrass widgets`);
    assert.strictEqual(titles.includes("Connections: vehicles connected (fleet index)"), features.fleetIndex, `${run.stack}: fleet index widget`);
    for (const section of ["Provisioning:", "Pre-provisioning hook:", "Rotation:", "Connections:"]) assert.ok(has(section), `${run.stack}: ${section}`);
    if (features.routing) {
        // Every Kafka route's rule has its action and error-action failures on the dashboard.
        const routes = names("aws:iot/topicRule:TopicRule", "name").filter((n: string) => run.ofType("aws:iot/topicRule:TopicRule").find((r) => r.inputs.name === n)!.inputs.kafkas?.length);
        assert.ok(routes.length > 0);
        for (const rule of routes) {
            for (const metric of ["Failure", "ErrorActionFailure"]) assert.ok(shown.some((s) => s.metric === metric && s.dimensions.RuleName === rule), `${run.stack}: ${metric} of ${rule}`);
        }
    }
    // Every provisioning template's RegisterThing failures; the hook's duration, errors, throttles.
    for (const t of names("aws:iot/provisioningTemplate:ProvisioningTemplate", "name")) assert.ok(shown.some((s) => s.metric === "RegisterThingFailed" && s.dimensions.TemplateName === t), t);
    // The function that decides whether a unit becomes a Thing: the pre-provisioning hook, or oemCa's just-in-time registration.
    const hook = run.ofType("aws:lambda/function:Function").find((f) => f.inputs.name === `${prefix}-provisioning-hook` || f.inputs.name === `${prefix}-jitr`)!.inputs.name;
    for (const metric of ["Duration", "Errors", "Throttles"]) assert.ok(shown.some((s) => s.namespace === "AWS/Lambda" && s.metric === metric && s.dimensions.FunctionName === hook), metric);
    // The alarm widget: every alarm of the stack, and nothing else.
    assert.deepStrictEqual(alarms, run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.state.arn).sort(), `${run.stack}: alarms`);
}

describe("operations dashboard: every widget names a metric that exists, for what the stack has", function () {
    this.timeout(120_000);

    it("the documented list names each AWS metric once, each with its AWS documentation page", () => {
        const keys = DOCUMENTED_METRICS.map((m) => `${m.namespace} ${m.metric} ${m.dimensions.join(",")}`);
        assert.strictEqual(new Set(keys).size, keys.length);
        for (const m of DOCUMENTED_METRICS) {
            assert.match(m.source, /^https:\/\/docs\.aws\.amazon\.com\//, m.metric);
            assert.deepStrictEqual(m.dimensions, [...m.dimensions].sort(), m.metric);
        }
    });

    for (const stack of stackNames()) {
        it(`${stack}: one dashboard, its URL an output, every metric documented or the stack's own, every dimension the stack's`, async () => {
            const run = await runStack(stack);
            const c = readStackFile(stack).config;
            const owner = c["fms-iot:operations"] ? JSON.parse(c["fms-iot:operations"]).regionSettingsOwner : undefined;
            checkDashboard(run, { routing: c["fms-iot:routing"] !== undefined, greengrass: c["fms-iot:greengrass"] !== undefined, fleetIndex: (owner ?? stack) === stack });
        });
    }

    it("a stack without routing or Greengrass (a stack file the shipped ones are not) shows neither section", async () => {
        const stack = stackNames().find((s) => readStackFile(s).config["fms-iot:routing"] !== undefined) ?? stackNames()[0];
        const run = await runStack(stack, {
            fresh: true,
            edit: (c) => { delete c["fms-iot:routing"]; delete c["fms-iot:greengrass"]; },
        });
        const c = readStackFile(stack).config;
        const owner = c["fms-iot:operations"] ? JSON.parse(c["fms-iot:operations"]).regionSettingsOwner : undefined;
        checkDashboard(run, { routing: false, greengrass: false, fleetIndex: (owner ?? stack) === stack });
    });

    it("at fleet scale (999 routes, AWS's default rule quota; an alarm per rule) every graph and alarm widget stays within CloudWatch's limits", () => {
        const rules = Array.from({ length: 999 }, (_, i) => `fms_big_r${i}`);
        const alarmArns = Array.from({ length: 1010 }, (_, i) => `arn:aws:cloudwatch:ap-northeast-2:111122223333:alarm:fms-big-${String(i).padStart(4, "0")}`);
        const widgets = dashboardWidgets({
            region: "ap-northeast-2", namespace: "FMS/IoT/fms-big", hookFunctionName: "fms-big-provisioning-hook", claimCertificateId: "a".repeat(64),
            templateNames: ["fms-big-vehicle", "fms-big-vehicle-rotation"],
            rotation: { confirmFunctionName: "c", sweepFunctionName: "s", failureQueueName: "q", ruleName: "fms_big_confirm" },
            routing: { ruleNames: rules }, connectedFleetMetric: "fms-big-connected-vehicles", greengrass: { roleAliasName: "fms-big-core" }, alarmArns,
        });
        // Dashboard body structure: 0-500 widgets; an alarm status widget 1-100 alarms. A graph: at most 100 metrics
        // (the documented bound of a rendered graph, GetMetricWidgetImage), here far fewer.
        const body = JSON.parse(dashboardBody("ap-northeast-2", widgets));
        assert.ok(body.widgets.length <= 500);
        for (const w of widgets) {
            if (w.type === "alarm") assert.ok(w.alarms!.length >= 1 && w.alarms!.length <= ALARMS_PER_WIDGET, w.title);
            else assert.ok(w.metrics!.length <= PER_RULE_LINES + 1, `${w.title}: ${w.metrics!.length} lines`);
        }
        assert.deepStrictEqual(widgets.filter((w) => w.type === "alarm").flatMap((w) => w.alarms), [...alarmArns].sort(), "every alarm, once");
        // Past ten rules, the ten with the most failures, by rule.
        const failures = widgets.find((w) => w.title.startsWith("Routing: rule action failures"))!;
        assert.deepStrictEqual(failures.metrics, [[{ id: "f", label: "", expression: `SELECT SUM(Failure) FROM SCHEMA("AWS/IoT", ActionType, RuleName) GROUP BY RuleName ORDER BY SUM() DESC LIMIT ${PER_RULE_LINES}` }]]);
    });

    it("the hook's decisions are counted by reason (a Reason dimension from the decision's JSON, no default value)", async () => {
        const run = await runStack(stackNames()[0]);
        const f = run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").find((m) => m.inputs.metricTransformation.name === "ProvisioningDecisions")!;
        assert.strictEqual(f.inputs.pattern, '{ $.event = "provisioning-decision" }');
        assert.deepStrictEqual(f.inputs.metricTransformation.dimensions, { Reason: "$.reason" });
        assert.strictEqual(f.inputs.metricTransformation.defaultValue, undefined);
    });
});
