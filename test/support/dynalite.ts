/** A real DynamoDB implementation (dynalite) on loopback, with tables made for a test. */
import { ChildProcess, spawn } from "child_process";
import { AddressInfo } from "net";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

type Server = { listen(port: number, host: string, cb: () => void): void; close(cb: () => void): void; address(): AddressInfo };
const dynalite: (o: object) => Server = require("dynalite");

const OPTIONS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };

/** Where dynalite runs: in this process (the tests), or in a child process of its own (the burst bench). */
export interface LocalDynamoOptions {
    /**
     * true: dynalite serves from a child Node process, on its own event loop (and, the OS willing, its own core),
     * so that the latency a caller measures is DynamoDB's and loopback's, not a wait behind this process's work.
     */
    childProcess?: boolean;
}

/** The child's program: dynalite on an ephemeral loopback port, which it prints; it ends with its parent. */
const CHILD = (module: string) => `
const server = require(${JSON.stringify(module)})(${JSON.stringify(OPTIONS)});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();`;

export class LocalDynamo {
    private constructor(private readonly server: Server | ChildProcess, public readonly client: DynamoDBClient, public readonly endpoint: string) {}

    static async start(o: LocalDynamoOptions = {}): Promise<LocalDynamo> {
        let server: Server | ChildProcess;
        let port: number;
        if (o.childProcess) {
            const child = spawn(process.execPath, ["-e", CHILD(require.resolve("dynalite"))], { stdio: ["pipe", "pipe", "inherit"] });
            server = child;
            port = await new Promise<number>((resolve, reject) => {
                let out = "";
                child.once("error", reject);
                child.once("exit", (code) => reject(new Error(`dynalite's child process exited (${code}) before listening`)));
                child.stdout!.on("data", (d: Buffer) => {
                    out += d.toString();
                    if (out.includes("\n")) resolve(Number(out.trim()));
                });
            });
        } else {
            const local = dynalite(OPTIONS);
            server = local;
            await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
            port = local.address().port;
        }
        const endpoint = `http://127.0.0.1:${port}`;
        const client = new DynamoDBClient({ endpoint, region: "ap-northeast-2", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        return new LocalDynamo(server, client, endpoint);
    }

    /** An on-demand table with a string hash key, once it is ACTIVE. */
    async table(name: string, hashKey: string): Promise<void> {
        await this.client.send(new CreateTableCommand({
            TableName: name, BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }], KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
        }));
        for (let i = 0; i < 100; i++) {
            if ((await this.client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus === "ACTIVE") return;
            await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`table ${name} did not become ACTIVE`);
    }

    async stop(): Promise<void> {
        this.client.destroy();
        const server = this.server;
        if (server instanceof ChildProcess) {
            if (server.exitCode !== null) return;
            const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
            server.stdin!.end(); // the child exits when its stdin closes
            await exited;
        } else await new Promise<void>((resolve) => server.close(() => resolve()));
    }
}
