import { FleetReport, StackReport } from "./fleet";

/** Columns of a plain-text table, left-aligned, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export const SUMMARY_COLUMNS = ["STACK", "WAVE", "REGION", "ACCOUNT", "CREATE", "UPDATE", "REPLACE", "DELETE", "DURATION", "RESULT", "LOG"];

const row = (s: StackReport): string[] => [
    s.stack, String(s.wave), s.region, s.account,
    String(s.changes.create), String(s.changes.update), String(s.changes.replace), String(s.changes.delete),
    `${s.durationSeconds}s`, s.result, s.logFile || "-",
];

/** The end-of-run table, then one line per stack that did not succeed saying why. */
export function summaryText(report: FleetReport): string {
    const why = report.stacks.filter((s) => s.reason).map((s) => `${s.stack}: ${s.result}: ${s.reason}`);
    const drift = report.stacks.flatMap((s) => (s.drift ?? []).map((d) => `${s.stack}: ${d.op === "delete" ? "gone" : "changed"} outside Pulumi: ${d.urn}`));
    return [table(SUMMARY_COLUMNS, report.stacks.map(row)), ...(why.length ? ["", ...why] : []), ...(drift.length ? ["", ...drift] : [])].join("\n");
}

/** The same table as GitHub-flavoured Markdown (the deploy workflow's job summary). */
export function summaryMarkdown(report: FleetReport): string {
    const esc = (c: string) => c.replace(/\|/g, "\\|");
    const rows = report.stacks.map((s) => `| ${row(s).map(esc).join(" | ")} |`);
    const why = report.stacks.filter((s) => s.reason).map((s) => `- **${s.stack}** ${s.result}: ${esc(s.reason!)}`);
    return [`### fleet ${report.command}`, "", `| ${SUMMARY_COLUMNS.join(" | ")} |`, `|${SUMMARY_COLUMNS.map(() => "---").join("|")}|`, ...rows, ...(why.length ? ["", ...why] : [])].join("\n");
}

/** `--json`: the report as it is (FleetReport; its shape is a contract, docs/operations.md). */
export function summaryJson(report: FleetReport): string {
    return JSON.stringify(report, null, 2);
}
