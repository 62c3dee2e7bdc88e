import * as net from "net";
import * as mqtt from "mqtt";

/**
 * AWS IoT Core on port 443 takes MQTT with an X.509 client certificate only with this ALPN protocol
 * name (AWS IoT Core Developer Guide, "Protocols, port mappings, and authentication").
 */
export const AWS_IOT_MQTT_ALPN = "x-amzn-mqtt-ca";

/** A device's TLS identity. Without `ca`, Node's root store (which holds Amazon Root CA 1) verifies the server. */
export interface TlsIdentity {
    cert: string;
    key: string;
    ca?: string;
}

export interface ConnectOptions {
    host: string;
    port: number;
    clientId: string;
    identity: TlsIdentity;
    timeoutMs: number;
    /** 4: MQTT 3.1.1 (default); 5: MQTT 5. */
    mqttVersion?: 4 | 5;
}

/** TLS settings for AWS IoT: SNI for a host name only (Node deprecates an IP as servername), ALPN on 443. */
export function tlsOptionsFor(host: string, port: number): { servername?: string; ALPNProtocols?: string[] } {
    return {
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
        ...(port === 443 ? { ALPNProtocols: [AWS_IOT_MQTT_ALPN] } : {}),
    };
}

/**
 * A CONNECT refused for a reason that passes: MQTT 5 CONNACK 0x97 Quota exceeded or 0x9F Connection rate exceeded
 * (MQTT 5.0, section 3.2.2.2; AWS IoT Core developer guide, "MQTT 5 reason codes",
 * https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html). Worth a retry after a backoff. A CONNECT refused
 * without a reason (MQTT 3.1.1: AWS IoT closes the connection, throttled or not authorized alike) is not one of
 * these: the device cannot tell a throttle from a refusal there, and does not retry it.
 */
export class ConnectThrottled extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConnectThrottled";
    }
}

/** MQTT 5 CONNACK reason codes that say "later": 0x97 Quota exceeded, 0x9F Connection rate exceeded. */
export const THROTTLED_CONNACK = [0x97, 0x9f];

/**
 * AWS IoT answered the CONNECT (or the TLS handshake) and refused it: what a device sees when its certificate is not
 * ACTIVE ("Devices cannot use a certificate that is not in the ACTIVE state to reconnect": AWS IoT API reference,
 * UpdateCertificate, https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html), or its policy does
 * not allow the client id. On MQTT 3.1.1 AWS IoT closes the connection without a reason; on MQTT 5 it answers CONNACK
 * 0x87. Not a refusal: a timeout, a throttle (ConnectThrottled) and a network that never reached AWS (DNS, no route,
 * TCP refused): those say nothing about the certificate. What the fallback to `*.previous` acts on (device/fallback.ts).
 */
export class ConnectRefused extends Error {
    constructor(message: string) {
        super(message); // named Error still: callers print and match it as before
    }
}

/** Socket errors raised before AWS IoT saw the certificate: the network, not a refusal. */
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT", "ENETDOWN"]);

export class TimeoutError extends Error {
    constructor(what: string, ms: number) {
        super(`timed out after ${ms} ms waiting for ${what}`);
        this.name = "TimeoutError";
    }
}

/**
 * Resolves with `work`, or rejects after `ms` (and when the connection closes first, via `closed`).
 * A `work` that fails after the race is lost is handled too (no unhandled rejection).
 */
export function within<T>(what: string, ms: number, work: Promise<T>, closed?: Promise<never>): Promise<T> {
    work.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms); });
    return Promise.race([work, timeout, ...(closed ? [closed] : [])]).finally(() => clearTimeout(timer));
}

/** An MQTT 3.1.1 (or 5) session over mutual TLS, as AWS IoT Core expects (port 8883, or 443 with ALPN). */
export class MqttSession {
    /** Rejects when the broker closes the connection (AWS IoT does so on an unauthorized publish). */
    public readonly closed: Promise<never>;
    private readonly messages = new Map<string, ((payload: Buffer) => void)[]>();
    /** A request failed or timed out: do not wait for in-flight messages when ending. */
    private broken = false;

    private constructor(public readonly client: mqtt.MqttClient, public readonly clientId: string, private readonly timeoutMs: number) {
        this.closed = new Promise<never>((_, reject) => {
            client.on("close", () => reject(new Error(`the broker closed the connection of ${clientId}`)));
        });
        this.closed.catch(() => undefined);
        client.on("message", (topic, payload) => {
            for (const waiter of this.messages.get(topic) ?? []) waiter(payload);
        });
    }

    static async connect(o: ConnectOptions): Promise<MqttSession> {
        const client = mqtt.connect({
            protocol: "mqtts",
            host: o.host,
            port: o.port,
            ...tlsOptionsFor(o.host, o.port),
            clientId: o.clientId,
            cert: o.identity.cert,
            key: o.identity.key,
            ...(o.identity.ca ? { ca: o.identity.ca } : {}),
            rejectUnauthorized: true,
            protocolVersion: o.mqttVersion ?? 4,
            clean: true,
            reconnectPeriod: 0,
            connectTimeout: o.timeoutMs,
        });
        const connected = new Promise<void>((resolve, reject) => {
            client.once("connect", () => resolve());
            client.once("error", (err) => {
                const message = `cannot connect to ${o.host}:${o.port} as ${o.clientId}: ${err.message}`;
                const code = (err as { code?: unknown }).code;
                if (THROTTLED_CONNACK.includes(code as number)) reject(new ConnectThrottled(message));
                else reject(typeof code === "string" && NETWORK_ERRORS.has(code) ? new Error(message) : new ConnectRefused(message));
            });
            client.once("close", () => reject(new ConnectRefused(`the broker refused the connection of ${o.clientId} (not authorized?)`)));
        });
        try {
            await within(`the connection to ${o.host}:${o.port}`, o.timeoutMs, connected);
        } catch (err) {
            client.end(true);
            throw err;
        }
        return new MqttSession(client, o.clientId, o.timeoutMs);
    }

    async subscribe(topics: string[]): Promise<void> {
        const refusal = new Error(`the broker refused the subscription to ${topics.join(", ")} (not authorized?)`);
        // mqtt.js rejects the whole request when the SUBACK refuses a filter (return code 128).
        const granted = await within(`SUBACK for ${topics.join(", ")}`, this.timeoutMs,
            this.client.subscribeAsync(topics, { qos: 1 }).catch((err: Error) => {
                if (err.name === "ErrorWithSubackPacket" || /Subscribe error/.test(err.message)) throw refusal;
                throw err;
            }), this.closed);
        if (granted.some((g) => g.qos === 128)) throw refusal;
    }

    /** Publishes with QoS 1 and resolves on the broker's PUBACK. */
    async publish(topic: string, payload: string | Buffer): Promise<void> {
        try {
            await within(`PUBACK for ${topic}`, this.timeoutMs, this.client.publishAsync(topic, payload, { qos: 1 }).then(() => undefined), this.closed);
        } catch (err) {
            this.broken = true;
            throw err;
        }
    }

    /** The next message on any of these (already subscribed) topics. */
    next(topics: string[]): Promise<{ topic: string; payload: Buffer }> {
        return within(`a message on ${topics.join(" or ")}`, this.timeoutMs, new Promise((resolve) => {
            const handlers = topics.map((topic) => {
                const handler = (payload: Buffer) => {
                    topics.forEach((t, i) => this.messages.set(t, (this.messages.get(t) ?? []).filter((h) => h !== handlers[i])));
                    resolve({ topic, payload });
                };
                this.messages.set(topic, [...(this.messages.get(topic) ?? []), handler]);
                return handler;
            });
        }), this.closed);
    }

    async end(): Promise<void> {
        await within("the disconnect", this.timeoutMs, this.client.endAsync(this.broken).catch(() => undefined)).catch(() => this.client.end(true));
    }
}
