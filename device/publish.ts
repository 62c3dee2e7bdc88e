import { MqttSession } from "./mqttSession";
import { readIdentity } from "./provision";

export interface PublishOptions {
    /** 4: MQTT 3.1.1 (default); 5: MQTT 5. */
    mqttVersion?: 4 | 5;
    endpoint: string;
    port: number;
    certFile: string;
    keyFile: string;
    ca?: string;
    thing: string;
    /** Basic Ingest: the message goes to `$aws/rules/<rule>/<topic>`, straight to that rule. */
    rule: string;
    /** The part after the rule name; it must match the rule's FROM. */
    topic: string;
    count: number;
    intervalMs: number;
    timeoutMs: number;
    /**
     * Connections to try (default 1). A unit with a certificate from the maker's CA (oemCa) is registered on its
     * first connection, which AWS IoT then closes; it reconnects, with a pause, until the stack has activated
     * the certificate (AWS IoT developer guide, "just-in-time registration (JITR)").
     */
    connectAttempts?: number;
    /** Pause before each further connection, in ms (default 2000). */
    reconnectDelayMs?: number;
}

export interface PublishResult {
    topic: string;
    sent: number;
    acknowledged: number;
}

/** The Basic Ingest topic for a rule and the topic its SQL selects FROM. */
export function basicIngestTopic(rule: string, topic: string): string {
    return `$aws/rules/${rule}/${topic.replace(/^\/+/, "")}`;
}

/** Reconnects as the Thing and publishes `count` telemetry messages with QoS 1, counting PUBACKs. */
export async function publishTelemetry(o: PublishOptions): Promise<PublishResult> {
    const topic = basicIngestTopic(o.rule, o.topic);
    const identity = readIdentity(o.certFile, o.keyFile, o.ca);
    const connect = () => MqttSession.connect({ host: o.endpoint, port: o.port, clientId: o.thing, identity, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion });
    const session = await connectWithRetries(connect, o.connectAttempts ?? 1, o.reconnectDelayMs ?? 2000);
    let sent = 0;
    let acknowledged = 0;
    try {
        for (let i = 1; i <= o.count; i++) {
            const message = { thingName: o.thing, sequence: i, timestamp: Date.now(), status: { speedKmh: 40 + (i % 20), batteryPct: 90 - (i % 10) } };
            sent++;
            await session.publish(topic, JSON.stringify(message));
            acknowledged++;
            if (i < o.count && o.intervalMs > 0) await new Promise((r) => setTimeout(r, o.intervalMs));
        }
    } catch (err) {
        throw Object.assign(new Error(`${(err as Error).message} (${acknowledged} of ${o.count} acknowledged)`), { sent, acknowledged });
    } finally {
        await session.end();
    }
    return { topic, sent, acknowledged };
}

/** Connects, trying again after a pause while the broker closes the connection (a certificate being registered). */
export async function connectWithRetries(connect: () => Promise<MqttSession>, attempts: number, delayMs: number): Promise<MqttSession> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await connect();
        } catch (err) {
            if (attempt >= attempts) throw attempts > 1 ? new Error(`${(err as Error).message} (after ${attempts} connections)`) : err;
            await new Promise((r) => setTimeout(r, delayMs));
        }
    }
}
