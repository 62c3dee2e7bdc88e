/**
 * `npm run bench -- --burst N [--write]`: runs the burst (bench/burst.ts) and prints its figures, the projection and
 * the last line; with --write (only) it also puts them, with the date, into the burst section of BURST_FILE.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";
import { Markers, replaceMarkedSection } from "../plan/readmeSection";
import { AWS_QUOTAS, FLEET_PROVISIONING_RATES, NOMINAL_REQUESTS, PerUnitRequests, projectOnboarding, RATE_QUOTA } from "../config/awsQuotas";
import { DEFAULT_RETRY } from "../device/retry";
import { burst, BurstResult } from "./burst";

const hms = (s: number) => s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;

/** The figures of a burst, as printed (the last line is the one a script reads). */
export function burstReport(r: BurstResult, wallSeconds: number): string[] {
    const out: string[] = [];
    const cpu = os.cpus();
    out.push(`Burst: ${r.units} units on ${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, Node ${process.version}; wall time ${hms(wallSeconds)} (setup included)`);
    out.push(`AWS rates emulated (per account, ${AWS_QUOTAS.registerThingRate.source}): ${Object.entries(FLEET_PROVISIONING_RATES).map(([k, v]) => `${k} ${v}/s`).join(", ")}`);
    out.push(`Device retry policy: full-jitter backoff ${DEFAULT_RETRY.baseMs} ms doubling to ${DEFAULT_RETRY.capMs / 1000} s, at most ${DEFAULT_RETRY.maxAttempts} attempts in a row, ${DEFAULT_RETRY.deadlineMs / 3600_000} h deadline`);
    out.push(`Before power-on (not in the measured window): the units' keys and CSRs ${r.prepared.unitKeysSeconds.toFixed(1)} s, the double's RSA keys for the AWS-key units ${r.prepared.awsKeysSeconds.toFixed(1)} s`);
    out.push(`Power-on to last identity: ${r.seconds.toFixed(1)} s (${r.startupSeconds.toFixed(1)} s of it before the first request)`);
    out.push(`Throughput: ${r.unitsPerSecond.toFixed(2)} units/s; time to identity p50 ${r.identity.p50.toFixed(1)} s, p99 ${r.identity.p99.toFixed(1)} s, max ${r.identity.max.toFixed(1)} s`);
    out.push(`Hook (real handler in ${r.hook.where}, dynalite) under the burst: p50 ${r.hook.p50.toFixed(1)} ms, p99 ${r.hook.p99.toFixed(1)} ms over ${r.hook.invocations} invocations (AWS allows ${AWS_QUOTAS.preProvisioningHookTimeout.value} s)${r.hook.where === "its own process" ? `; as the double waited for it (IPC and this process's loop included): p50 ${r.hook.waited.p50.toFixed(1)} ms, p99 ${r.hook.waited.p99.toFixed(1)} ms` : ""}`);
    out.push(`  of which DynamoDB calls (dynalite in ${r.dynamo.where}, as the hook's client sees them): p50 ${r.dynamo.p50.toFixed(1)} ms, p99 ${r.dynamo.p99.toFixed(1)} ms over ${r.dynamo.calls} calls; this process's event-loop delay p50 ${r.eventLoopDelay.p50.toFixed(1)} ms, p99 ${r.eventLoopDelay.p99.toFixed(1)} ms, max ${r.eventLoopDelay.max.toFixed(0)} ms`);
    out.push(`Requests admitted: ${JSON.stringify(r.requests.admitted)}; throttled: ${JSON.stringify(r.requests.throttled)}`);
    out.push(`Retries: ${r.retries} (units that finished); new certificates after a token neared expiry: ${r.newCertificates}; peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
    const sat = r.binding.saturated;
    out.push(`Binding: ${r.binding.operation} admitted ${r.binding.measured.toFixed(2)}/s of its ${r.binding.limit}/s over the whole run (${(r.binding.share * 100).toFixed(0)}%, the backoff's tail included)${sat ? `; ${sat.perSecond.toFixed(2)}/s (${((sat.perSecond / r.binding.limit) * 100).toFixed(0)}%) over the ${sat.seconds} s its demand was above the rate` : ""}`);
    out.push(`Checks: ${r.problems.length === 0 ? "every unit one Thing with one ACTIVE certificate bound to its own key, its serial provisioned with it; no serial burnt, no orphan certificate, no unit gave up" : `${r.problems.length} problem(s):`}`);
    for (const p of r.problems) out.push(`  ${p}`);
    // Projection: requests per provisioned unit as measured (retries excluded: a throttled request is refused, not served).
    const provisioned = Math.max(1, r.provisionedOnce);
    const perUnit: PerUnitRequests = Object.fromEntries(Object.entries(r.requests.admitted).map(([k, v]) => [k, v / provisioned]));
    const deviceShare = (r.requests.admitted.CreateCertificateFromCsr ?? 0) / provisioned;
    out.push(`Projection at AWS's default quotas (requests per unit as measured: ${Object.entries(perUnit).map(([k, v]) => `${k} ${v!.toFixed(2)}`).join(", ")}):`);
    for (const units of [10_000, 100_000]) {
        const p = projectOnboarding(units, { ...NOMINAL_REQUESTS(deviceShare), ...perUnit });
        const q = AWS_QUOTAS[RATE_QUOTA[p.binding]];
        const next = p.byOperation[1];
        out.push(`  ${units.toLocaleString("en-US")} units: ${hms(p.seconds)}, bound by ${p.binding} (AWS quota "${q.name}", ${q.value}/s, adjustable: ${q.adjustable ? "yes" : "no"})${next ? `; next ${next.operation} at ${hms(next.seconds)}` : ""}`);
        if (p.seconds > AWS_QUOTAS.ownershipTokenLife.value) {
            out.push(`    longer than the ownership token's ${AWS_QUOTAS.ownershipTokenLife.value / 60} min: units that got a certificate early ask for a new one (the device policy's token margin); ask for a RegisterThing increase or stagger power-on`);
        }
    }
    const hookConcurrency = FLEET_PROVISIONING_RATES.RegisterThing * (r.hook.p99 / 1000);
    out.push(`  the hook at AWS's RegisterThing rate runs ${hookConcurrency.toFixed(2)} executions at once (p99) of Lambda's ${AWS_QUOTAS.lambdaConcurrency.value}: not the limit`);
    out.push(`burst: ${r.units} units, ${r.provisionedOnce} provisioned exactly once, ${r.unitsPerSecond.toFixed(2)} units/s, identity p99 ${r.identity.p99.toFixed(1)} s, hook p99 ${r.hook.p99.toFixed(1)} ms, binding limit: ${r.binding.operation} ${r.binding.limit}/s (AWS)`);
    return out;
}

/** The page (from the project root) whose burst section `npm run bench -- --burst N --write` rewrites. */
export const BURST_FILE = "docs/scale.md";
export const BURST_MARKERS: Markers = { start: "<!-- burst:start (npm run bench -- --burst N --write writes this) -->", end: "<!-- burst:end -->" };

/** The section written: when, what ran, and the printed figures as they were. */
export function burstSection(lines: string[], when: Date, exit: number): string {
    const verdict = exit === 0 ? "every check passed" : "a check failed (see Checks)";
    return [BURST_MARKERS.start, "", `The last run written (${when.toISOString().slice(0, 16).replace("T", " ")} UTC; ${verdict}):`, "", "```", ...lines, "```", "", BURST_MARKERS.end].join("\n");
}

/** Replaces the burst section of `file` (absolute) with these figures. */
export function writeBurstSection(file: string, lines: string[], when: Date, exit: number): void {
    fs.writeFileSync(file, replaceMarkedSection(fs.readFileSync(file, "utf8"), BURST_MARKERS, burstSection(lines, when, exit)));
}

/** Runs it and prints (and writes, with `write`); 0 when every check passed, 1 otherwise. */
export async function runBurst(units: number, backoff: boolean, progress: (line: string) => void, write = false): Promise<number> {
    const started = Date.now();
    const r = await burst({ units, retry: { ...DEFAULT_RETRY, backoff }, progress });
    const lines = burstReport(r, (Date.now() - started) / 1000);
    console.log(lines.join("\n"));
    const exit = r.problems.length === 0 ? 0 : 1;
    if (write) {
        writeBurstSection(path.join(PROJECT_ROOT, BURST_FILE), lines, new Date(), exit);
        progress(`wrote the figures into ${BURST_FILE}`);
    } else progress(`not written anywhere (npm run bench -- --burst ${units} --write puts them into ${BURST_FILE})`);
    return exit;
}

