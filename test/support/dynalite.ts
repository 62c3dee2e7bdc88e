/** A real DynamoDB implementation (dynalite) on loopback, with tables made for a test. */
import { AddressInfo } from "net";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

type Server = { listen(port: number, host: string, cb: () => void): void; close(cb: () => void): void; address(): AddressInfo };
const dynalite: (o: object) => Server = require("dynalite");

export class LocalDynamo {
    private constructor(private readonly server: Server, public readonly client: DynamoDBClient) {}

    static async start(): Promise<LocalDynamo> {
        const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${server.address().port}`, region: "ap-northeast-2", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        return new LocalDynamo(server, client);
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
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}
