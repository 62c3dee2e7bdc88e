/**
 * YAML number pitfalls in a stack file. YAML 1.2 (the `yaml` package here, and the Pulumi CLI's Go
 * decoder alike) reads an unquoted 0297468 as the number 297468, 1.10 as 1.1, 1e3 as 1000 and
 * 29746800000000000001 as a float that no longer holds those digits. By the time the engine hands the
 * value to the program the digits in the file are gone, so the program would complain about (or
 * worse, accept) digits nobody wrote. This scan reads the file itself: a plain (unquoted) scalar that
 * YAML resolves to a number spelt differently from its own digits is one error line naming the file,
 * line, column and key, and saying "quote it".
 */
import * as fs from "fs";
import * as path from "path";
import { isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit } from "yaml";
import { numberKeepsItsDigits, StackFileError } from "./errors";

export function yamlNumberProblem(file: string, text = fs.readFileSync(file, "utf8")): string | undefined {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    if (doc.errors.length > 0) return undefined; // syntax errors are reported by the reader
    let problem: string | undefined;
    visit(doc, {
        Scalar(key, node: Scalar, ancestors) {
            if (key === "key" || typeof node.value !== "number" || node.type !== "PLAIN" || !node.range) return undefined;
            const written = text.slice(node.range[0], node.range[1]).trim();
            if (written === String(node.value)) return undefined;
            const where = lines.linePos(node.range[0]);
            const keyPath: string[] = [];
            ancestors.forEach((a, i) => {
                const child = ancestors[i + 1] ?? node;
                if (isPair(a) && isScalar(a.key) && a.value === child) keyPath.push(String(a.key.value));
                if (isSeq(a)) keyPath.push(`[${a.items.indexOf(child as never)}]`);
            });
            const dotted = keyPath.slice(1).map((k, i) => (k.startsWith("[") || i === 0 ? k : `.${k}`)).join("");
            // A number too long for YAML to hold is shown as written, never as the digits YAML made of it.
            const reads = numberKeepsItsDigits(node.value) ? `reads ${written} as the number ${node.value}` : `cannot hold ${written} digit for digit (an unquoted number keeps at most 15 significant digits)`;
            problem = `${path.basename(file)}:${where.line}:${where.col}: ${dotted}: YAML ${reads}; quote it: "${written}"`;
            return visit.BREAK;
        },
    });
    return problem;
}

/** Throws the one-line error for the first YAML number pitfall in a stack file. */
export function checkYamlNumbers(file: string, text?: string): void {
    const problem = yamlNumberProblem(file, text);
    if (problem) throw new StackFileError(problem);
}


