/**
 * Planning a stack re-evaluates the program's modules (index.ts reads its config while it is first evaluated), so
 * every plan in one process requires the same TypeScript files again. Under ts-node each require transpiles the file
 * anew: about half of a plan's time. This keeps ts-node's output per file and hands it back while the file's text is
 * unchanged (the text is compared, so an edited file is transpiled again).
 *
 * ts-node 10.9.2 keeps its service on `process[Symbol.for("ts-node.register.instance")]` (dist/index.js:131) and its
 * require hook calls `service.compile(code, fileName)` through that object on every load (dist/index.js:856), so
 * the memo wraps that method. Without ts-node (compiled JavaScript) there is nothing to do.
 */
type Compile = (code: string, fileName: string, lineOffset?: number) => string;
interface TsNodeService { compile: Compile; fmsTranspileMemo?: true }

export function keepTranspiledModules(): void {
    const service = (process as unknown as Record<symbol, TsNodeService | undefined>)[Symbol.for("ts-node.register.instance")];
    if (!service || service.fmsTranspileMemo) return;
    service.compile = keepOutputs(service.compile.bind(service));
    service.fmsTranspileMemo = true;
}

/** `compile`, remembering its output per file for as long as the file's text is the same. */
export function keepOutputs(compile: Compile): Compile {
    const outputs = new Map<string, { code: string; output: string }>();
    return (code, fileName, lineOffset) => {
        const kept = outputs.get(fileName);
        if (kept && kept.code === code && !lineOffset) return kept.output;
        const output = compile(code, fileName, lineOffset);
        if (!lineOffset) outputs.set(fileName, { code, output });
        return output;
    };
}
