/** Times every call an AWS SDK v3 client makes, as the client sees it (ms), into `into`: the burst bench's measures. */
export function timeClientCalls(client: { middlewareStack: { add(mw: (next: (args: any) => Promise<any>) => (args: any) => Promise<any>, o: { step: "initialize"; name: string }): void } }, into: number[], name: string): void {
    client.middlewareStack.add((next) => async (args) => {
        const t = process.hrtime.bigint();
        try {
            return await next(args);
        } finally {
            into.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
    }, { step: "initialize", name });
}
