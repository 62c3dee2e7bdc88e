/**
 * TEST DOUBLE of AWS IoT Core's MQTT side, for the device simulator's end-to-end test: a real MQTT
 * broker (aedes) on loopback with mutual TLS, which
 * - authenticates devices by their client certificate (signed by a test CA) and authorizes Connect,
 *   Publish, Subscribe and Receive with the IoT policies attached to that certificate
 *   (./iotPolicyEvaluator.ts);
 * - answers the fleet-provisioning MQTT API: `$aws/certificates/create/json` issues a key and
 *   certificate, `$aws/certificates/create-from-csr/json` signs the device's CSR (no key leaves the
 *   device), each with an ownership token; `$aws/provisioning-templates/<name>/provision/json` checks the token, calls the
 *   pre-provisioning hook with the event AWS documents, evaluates the template body
 *   (./templateEvaluator.ts), and registers the Thing, certificate and policy it yields;
 * - records what devices publish to Basic Ingest topics (`$aws/rules/<rule>/...`) as the rules engine
 *   would receive it, and hands it to a registered rule action with `principal()` and `clientid()`
 *   filled in from the connection; nobody may subscribe to those;
 * - serves the control-plane calls our Lambdas make (DescribeThing, ListThingPrincipals,
 *   DescribeCertificate, UpdateCertificate, DetachThingPrincipal; for just-in-time registration CreateThing,
 *   UpdateThing, AddThingToThingGroup, AttachPolicy, AttachThingPrincipal) from the same state (`iotApi()`);
 * - trusts CA certificates registered with it (`registerCaCertificate`, RegisterCACertificate) and, where
 *   auto-registration is on, treats a unit's first connection with a certificate such a CA signed as AWS
 *   IoT's just-in-time registration does (AWS IoT developer guide, "Register a client certificate when the
 *   client connects to AWS IoT just-in-time registration (JITR)",
 *   https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html; and the AWS IoT blog,
 *   "Just-in-Time Registration of Device Certificates on AWS IoT": "AWS IoT will publish a registration
 *   message on a reserved MQTT topic and disconnect the client"): the certificate is registered
 *   PENDING_ACTIVATION under that CA, the event goes to `$aws/events/certificates/registered/<caCertificateId>`
 *   (to the action set in `eventActions`), and the connection is closed; a later connection with the same
 *   certificate is authorized by its status and policies like any other.
 *   DescribeCertificate, UpdateCertificate, DetachThingPrincipal) from the same state (`iotApi()`).
 * - optionally enforces AWS's per-account rates for CONNECT and the fleet-provisioning MQTT API
 *   (./rateLimiter.ts, the values from config/awsQuotas.ts), answering a throttled request on its `/rejected`
 *   topic, and deletes a certificate whose ownership token expired unused, as AWS does;
 * - serves connections in process too (`connectInProcess`): the same authorization and topic handlers
 *   without TLS, MQTT framing or sockets, for the burst bench's thousands of units.
 * It is not AWS: only what the simulator and our policies exercise is modelled.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as net from "net";
import * as tls from "tls";
import { PolicyDocument } from "../../policies/document";
import { isAllowed, PrincipalContext } from "./iotPolicyEvaluator";
import { evaluateTemplate, TemplateError } from "./templateEvaluator";
import { Duplex } from "stream";
import { Mqtt5Front } from "./mqtt5Front";
import { Issued, TestCa } from "./x509";
import * as x509 from "@peculiar/x509";
import type { RequestSession } from "../../device/provision";
import { ConnectThrottled, TimeoutError } from "../../device/mqttSession";
import { AccountRateLimiter } from "./rateLimiter";
import { RateLimitedOperation } from "../../config/awsQuotas";

// aedes 0.51 is CommonJS with loose typings; only what the double uses is typed here.
type AedesClient = { id: string; conn: Pick<tls.TLSSocket, "getPeerCertificate">; publish(packet: object, done: (err?: Error) => void): void };
type Packet = { topic: string; payload: Buffer; qos: number; cmd?: string; retain?: boolean };
type Broker = {
    handle(conn: net.Socket | Duplex): void;
    close(done: () => void): void;
    authenticate(client: AedesClient, username: unknown, password: unknown, done: (err: Error | null, ok: boolean) => void): void;
    authorizePublish(client: AedesClient | null, packet: Packet, done: (err?: Error | null) => void): void;
    authorizeSubscribe(client: AedesClient, sub: { topic: string; qos: number }, done: (err: Error | null, sub: object | null) => void): void;
    authorizeForward(client: AedesClient, packet: Packet): Packet | null;
};
const createBroker: () => Broker = require("aedes").createBroker;

export interface HookResult { allowProvisioning: boolean; parameterOverrides?: Record<string, string> }

export interface DoubleOptions {
    region: string;
    accountId: string;
    /** Provisioning templates by name: the bodies our program produces. */
    templates: Record<string, object>;
    /** IoT policies by name: the documents our program produces. */
    policies: Record<string, PolicyDocument>;
    claimPolicyName: string;
    hook: (event: unknown) => Promise<HookResult>;
    /**
     * AWS IoT's certificate provider (privateCa): when set, CreateCertificateFromCsr hands the CSR to it as AWS IoT
     * does, `{certificateSigningRequest, principalId, clientId}`, and registers the `certificatePem` it returns (AWS IoT
     * developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider"). A function that
     * throws is a rejection; AWS does not document the error code the device then sees, so the double answers 400.
     */
    certificateProvider?: (event: { certificateSigningRequest: string; principalId: string; clientId: string }) => Promise<{ certificatePem: string }>;
    /** AWS's per-account rates (shared by the stacks of one account); none: nothing is throttled. */
    limiter?: AccountRateLimiter;
    /** false: keep no log of messages, hook events, refusals and subscriptions (a burst of 10,000 units). Default true. */
    keepLogs?: boolean;
    /** The clock of token expiry (ms). */
    now?: () => number;
}

/**
 * AWS IoT's answer to a throttled fleet-provisioning request, on the request's `/rejected` topic: the error
 * payload the device provisioning MQTT API documents for every rejection ({statusCode, errorCode, errorMessage};
 * fleet-provision-api.html), with HTTP's 429 and AWS's "Throttling" code. The page documents the shape, not the
 * throttle's values: the device (device/retry.ts) treats statusCode 429 or any errorCode containing "Thrott" as
 * a throttle, so it does not depend on this double's spelling.
 */
export const THROTTLED = { statusCode: 429, errorCode: "Throttling", errorMessage: "Rate exceeded" } as const;

interface CertificateRecord {
    certificateId: string;
    certificatePem: string;
    status: "ACTIVE" | "INACTIVE" | "PENDING_ACTIVATION" | "REVOKED";
    /** The registered CA it was auto-registered under (just-in-time registration). */
    caCertificateId?: string;
    policyNames: string[];
    /** Things this certificate is attached to. */
    things: string[];
    creationDate: Date;
}

/** A rule action: what the rules engine hands a Basic Ingest message to, with the connection's identity. */
export type RuleAction = (message: { principal?: string; clientId: string; topic: string; payload: string }) => Promise<void>;

export interface Refusal { clientId: string; action: string; resource: string }

export class AwsIotDouble {
    public readonly certificates = new Map<string, CertificateRecord>();
    public readonly things = new Map<string, { attributes: Record<string, string>; thingGroups: string[]; thingTypeName?: string; principals: string[] }>();
    /** Rule actions by rule name (Basic Ingest `$aws/rules/<rule>/...`). */
    public readonly ruleActions = new Map<string, RuleAction>();
    /** Every message the double sent a device: AWS IoT never sends a private key when the device sent a CSR. */
    public readonly sent: { clientId: string; topic: string; payload: string }[] = [];
    /** Messages published to Basic Ingest topics, as the rules engine would receive them. */
    public readonly ingested: { clientId: string; topic: string; payload: string }[] = [];
    public readonly hookEvents: unknown[] = [];
    public readonly refusals: Refusal[] = [];
    /** Topics whose publishes are refused even where the policy allows them (the broker then closes the connection). */
    public readonly refusePublishes = new Set<string>();
    /** Names of the policies provisioning templates created (PolicyDocument resources), in creation order. */
    public readonly createdPolicies: string[] = [];
    /** A policy document by name (the stack's, or one a template created). */
    policy(name: string): PolicyDocument | undefined {
        return this.o.policies[name];
    }
    /** CA certificates registered with the double (RegisterCACertificate), by id (SHA-256 of the DER). */
    public readonly caCertificates = new Map<string, { pem: string; autoRegistration: boolean }>();
    /** What the rules engine does with a reserved event topic (`$aws/events/certificates/registered/<caId>`). */
    public readonly eventActions = new Map<string, (event: Record<string, unknown>) => Promise<void>>();
    /** Connections closed because they registered a certificate (just-in-time registration). */
    public readonly registrationClosures: string[] = [];
    /** Every subscription granted, by client. */
    public readonly subscriptions: { clientId: string; topic: string }[] = [];
    private readonly tokens = new Map<string, { certificateId: string; expires: number }>();
    /** Tokens in the order they expire (one life for all): the sweep reads from `expiredUpTo`. */
    private readonly tokenQueue: string[] = [];
    private expiredUpTo = 0;
    /** Certificates AWS deleted because their ownership token expired before RegisterThing used it. */
    public expiredCertificates = 0;
    private get keepLogs(): boolean { return this.o.keepLogs !== false; }
    private now(): number { return (this.o.now ?? Date.now)(); }

    private constructor(private readonly o: DoubleOptions, public readonly ca: TestCa, private readonly broker: Broker, private readonly server: tls.Server, public readonly port: number, private readonly serverCert: Issued) {}

    static async start(o: DoubleOptions): Promise<AwsIotDouble> {
        const ca = await TestCa.create();
        const serverCert = await ca.issue("CN=localhost", { dns: ["localhost"], ip: ["127.0.0.1"] });
        const broker = createBroker();
        const server = tls.createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: true }, (socket) => broker.handle(socket));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const double = new AwsIotDouble(o, ca, broker, server, (server.address() as net.AddressInfo).port, serverCert);
        double.wire();
        return double;
    }

    /** A claim certificate (ACTIVE, with the claim policy attached), as our dynamic provider makes one. */
    /**
     * A device's working directory as the README's steps leave it: the broker's CA in `<dir>/ca.pem` and a new claim
     * certificate and key (0600) in `<dir>/claim/` (certificate.pem.crt, private.pem.key).
     */
    async writeClaimFiles(dir: string): Promise<{ caFile: string; claimDir: string }> {
        const caFile = path.join(dir, "ca.pem");
        fs.writeFileSync(caFile, this.ca.certPem);
        const claimDir = path.join(dir, "claim");
        fs.mkdirSync(claimDir);
        const claim = await this.issueClaimCertificate();
        fs.writeFileSync(path.join(claimDir, "certificate.pem.crt"), claim.certPem, { mode: 0o600 });
        fs.writeFileSync(path.join(claimDir, "private.pem.key"), claim.keyPem, { mode: 0o600 });
        return { caFile, claimDir };
    }

    async issueClaimCertificate(): Promise<Issued> {
        const issued = await this.ca.issue("CN=AWS IoT Certificate");
        this.certificates.set(issued.certificateId, { certificateId: issued.certificateId, certificatePem: issued.certPem, status: "ACTIVE", policyNames: [this.o.claimPolicyName], things: [], creationDate: new Date() });
        return issued;
    }

    /**
     * RegisterCACertificate in SNI_ONLY mode (no verification certificate): the double's TLS server trusts the CA
     * from now on, as AWS IoT accepts client certificates a registered, active CA signed. Returns its id.
     */
    registerCaCertificate(pem: string, o: { autoRegistration: boolean }): string {
        const id = crypto.createHash("sha256").update(new crypto.X509Certificate(pem).raw).digest("hex");
        this.caCertificates.set(id, { pem, autoRegistration: o.autoRegistration });
        this.server.setSecureContext({ key: this.serverCert.keyPem, cert: this.serverCert.certPem, ca: [this.ca.certPem, ...[...this.caCertificates.values()].map((c) => c.pem)] });
        return id;
    }

    /** A certificate no record holds, signed by a registered CA with auto-registration: register it and tell the rule. */
    private justInTimeRegistration(client: AedesClient): boolean {
        const peer = client.conn.getPeerCertificate?.() as (tls.PeerCertificate & { raw?: Buffer }) | undefined;
        if (!peer?.raw) return false;
        const cert = new crypto.X509Certificate(peer.raw);
        const certificateId = crypto.createHash("sha256").update(peer.raw).digest("hex");
        if (this.certificates.has(certificateId)) return false;
        const caId = [...this.caCertificates.entries()].find(([, ca]) => {
            const c = new crypto.X509Certificate(ca.pem);
            return ca.autoRegistration && cert.checkIssued(c) && cert.verify(c.publicKey);
        })?.[0];
        if (!caId) return false;
        const now = new Date();
        this.certificates.set(certificateId, { certificateId, certificatePem: cert.toString(), status: "PENDING_ACTIVATION", caCertificateId: caId, policyNames: [], things: [], creationDate: now });
        const event = {
            certificateId, caCertificateId: caId, timestamp: now.getTime(), certificateStatus: "PENDING_ACTIVATION",
            awsAccountId: this.o.accountId, certificateRegistrationTimestamp: String(now.getTime()),
        };
        const action = this.eventActions.get(`$aws/events/certificates/registered/${caId}`);
        if (action) void action(event);
        this.registrationClosures.push(client.id);
        return true;
    }

    private mqtt5?: Mqtt5Front;

    /** The same double over MQTT 5 (a translating front; aedes speaks 3.1.1): its port. */
    async startMqtt5(): Promise<number> {
        this.mqtt5 ??= await Mqtt5Front.start(this.ca, await this.ca.issue("CN=localhost", { dns: ["localhost"], ip: ["127.0.0.1"] }), (stream) => this.broker.handle(stream));
        return this.mqtt5.port;
    }

    /**
     * A connection served in process: the CONNECT, SUBSCRIBE and PUBLISH authorization and the topic handlers
     * are the broker's own (the same code a TLS connection reaches), the client certificate is `certificateId`'s.
     * Left out: TLS (the handshake's CPU and the certificate check), MQTT framing, aedes' routing and QoS, sockets
     * and network latency. A CONNECT over the account's rate is refused as MQTT 5 does (CONNACK 0x97).
     */
    async connectInProcess(clientId: string, certificateId: string, timeoutMs = 30_000): Promise<RequestSession> {
        if (this.o.limiter && !this.o.limiter.take("Connect")) throw new ConnectThrottled(`the CONNECT of ${clientId} was throttled (CONNACK 0x97 Quota exceeded)`);
        const waiters = new Map<string, ((payload: Buffer) => void)[]>();
        const subscribed = new Set<string>();
        let open = true;
        let refused: (() => void) | undefined;
        const client: AedesClient = {
            id: clientId,
            conn: { getPeerCertificate: () => ({ fingerprint256: certificateId }), destroy: () => refused?.() } as never,
            publish: (packet, done) => {
                const p = packet as Packet;
                if (open && subscribed.has(p.topic)) for (const w of waiters.get(p.topic) ?? []) w(p.payload);
                done();
            },
        };
        const ok = await new Promise<boolean>((resolve) => {
            refused = () => resolve(false);
            this.broker.authenticate(client, null, null, (err, granted) => resolve(!err && granted));
        });
        if (!ok) throw new Error(`the broker refused the connection of ${clientId} (not authorized?)`);
        return {
            subscribe: async (topics) => {
                for (const topic of topics) {
                    const granted = await new Promise<object | null>((resolve) => this.broker.authorizeSubscribe(client, { topic, qos: 1 }, (_e, sub) => resolve(sub)));
                    if (!granted) throw new Error(`the broker refused the subscription to ${topic} (not authorized?)`);
                    subscribed.add(topic);
                }
            },
            publish: async (topic, payload) => {
                if (!open) throw new Error(`the broker closed the connection of ${clientId}`);
                const packet: Packet = { cmd: "publish", topic, payload: Buffer.from(payload), qos: 1 };
                const err = await new Promise<Error | null | undefined>((resolve) => this.broker.authorizePublish(client, packet, resolve));
                if (err) {
                    open = false; // AWS IoT closes the connection on a publish it does not authorize
                    throw new Error(`the broker closed the connection of ${clientId}`);
                }
            },
            next: (topics) => new Promise((resolve, reject) => {
                const handlers = topics.map((topic) => (payload: Buffer) => {
                    clearTimeout(timer);
                    topics.forEach((t, i) => waiters.set(t, (waiters.get(t) ?? []).filter((h) => h !== handlers[i])));
                    resolve({ topic, payload });
                });
                topics.forEach((t, i) => waiters.set(t, [...(waiters.get(t) ?? []), handlers[i]]));
                const timer = setTimeout(() => reject(new TimeoutError(`a message on ${topics.join(" or ")}`, timeoutMs)), timeoutMs);
            }),
            end: async () => {
                open = false;
            },
        };
    }

    async close(): Promise<void> {
        await this.mqtt5?.close();
        await new Promise<void>((resolve) => this.broker.close(() => resolve()));
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private certificateOf(client: AedesClient): CertificateRecord | undefined {
        const fingerprint = client.conn.getPeerCertificate?.()?.fingerprint256;
        return fingerprint ? this.certificates.get(fingerprint.replace(/:/g, "").toLowerCase()) : undefined;
    }

    private allowed(client: AedesClient, action: string, resource: string): boolean {
        const cert = this.certificateOf(client);
        // iot:Connection.Thing.* : the Thing whose name is the client id, when this certificate is attached to it.
        const attachedThing = cert?.things.includes(client.id) ? client.id : undefined;
        const ctx: PrincipalContext = { region: this.o.region, accountId: this.o.accountId, clientId: client.id, attachedThing };
        const policies = (cert?.policyNames ?? []).map((n) => this.o.policies[n]).filter(Boolean);
        const ok = cert?.status === "ACTIVE" && isAllowed(policies, action, resource, ctx);
        if (!ok && this.keepLogs) this.refusals.push({ clientId: client.id, action, resource });
        return ok;
    }

    private wire(): void {
        const b = this.broker;
        b.authenticate = (client, _u, _p, done) => {
            // A first connection that registers its certificate is closed, whatever the policy would say.
            if (this.justInTimeRegistration(client)) return (client.conn as unknown as { destroy(): void }).destroy();
            const ok = this.allowed(client, "iot:Connect", `client/${client.id}`);
            if (ok) return done(null, true);
            // MQTT 5 (through the front): CONNACK 0x87 Not authorized, as AWS IoT's MQTT 5 reason codes say.
            if ((client.conn as { mqtt5?: boolean }).mqtt5) return done(Object.assign(new Error("not authorized"), { returnCode: 5 }), false);
            // MQTT 3.1.1: AWS IoT closes the connection without a CONNACK.
            (client.conn as unknown as { destroy(): void }).destroy();
        };
        b.authorizeSubscribe = (client, sub, done) => {
            const refused = sub.topic.startsWith("$aws/rules/") || !this.allowed(client, "iot:Subscribe", `topicfilter/${sub.topic}`);
            if (!refused && this.keepLogs) this.subscriptions.push({ clientId: client.id, topic: sub.topic });
            done(null, refused ? null : sub);
        };
        b.authorizeForward = (client, packet) => (this.allowed(client, "iot:Receive", `topic/${packet.topic}`) ? packet : null);
        b.authorizePublish = (client, packet, done) => {
            if (!client) return done(null);
            if (!this.allowed(client, packet.retain ? "iot:RetainPublish" : "iot:Publish", `topic/${packet.topic}`)) return done(new Error("not authorized"));
            if (this.refusePublishes.has(packet.topic)) return done(new Error("refused"));
            done(null);
            const topic = packet.topic;
            if (topic.startsWith("$aws/rules/")) {
                const message = { clientId: client.id, topic, payload: packet.payload.toString("utf8") };
                this.ingested.push(message);
                const action = this.ruleActions.get(topic.split("/")[2]);
                if (action) void action({ ...message, principal: this.certificateOf(client)?.certificateId });
            } else if (topic === "$aws/certificates/create/json") {
                void this.createKeysAndCertificate(client);
            } else if (topic === "$aws/certificates/create-from-csr/json") {
                void this.createCertificateFromCsr(client, packet.payload);
            } else {
                const m = /^\$aws\/provisioning-templates\/([^/]+)\/provision\/json$/.exec(topic);
                if (m) void this.registerThing(client, m[1], packet.payload);
            }
        };
    }

    /** Answers on `<request>/accepted|rejected`, to the requesting client only, if it may receive it. */
    private answer(client: AedesClient, topic: string, body: object): void {
        if (!this.allowed(client, "iot:Receive", `topic/${topic}`)) return;
        if (this.keepLogs) this.sent.push({ clientId: client.id, topic, payload: JSON.stringify(body) });
        // AWS IoT delivers these answers with QoS 1 (the device's subscription is QoS 1).
        client.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false }, () => undefined);
    }

    private reject(client: AedesClient, request: string, statusCode: number, errorCode: string, errorMessage: string): void {
        this.answer(client, `${request}/rejected`, { statusCode, errorCode, errorMessage });
    }

    /** Over the account's rate: the request is answered on `/rejected` and does nothing. */
    private throttled(client: AedesClient, op: RateLimitedOperation, request: string): boolean {
        if (!this.o.limiter || this.o.limiter.take(op)) return false;
        this.reject(client, request, THROTTLED.statusCode, THROTTLED.errorCode, THROTTLED.errorMessage);
        return true;
    }

    /** A new ownership token for a PENDING_ACTIVATION certificate, good for an hour (fleet-provision-api.html). */
    private newToken(certificateId: string): string {
        const token = crypto.randomBytes(32).toString("base64");
        this.tokens.set(token, { certificateId, expires: this.now() + 3600_000 });
        this.tokenQueue.push(token);
        return token;
    }

    /**
     * "If the certificate ... isn't activated and isn't attached to a policy or a thing by the time the token
     * expires, the certificate is deleted" (fleet-provision-api.html, CreateCertificateFromCsr and
     * CreateKeysAndCertificate): the double does so when it next serves a request.
     */
    private sweepExpiredTokens(): void {
        const now = this.now();
        while (this.expiredUpTo < this.tokenQueue.length) {
            const token = this.tokenQueue[this.expiredUpTo];
            const t = this.tokens.get(token);
            if (t && t.expires >= now) break;
            this.expiredUpTo++;
            if (!t) continue;
            this.tokens.delete(token);
            const c = this.certificates.get(t.certificateId);
            if (c?.status === "PENDING_ACTIVATION" && c.things.length === 0 && c.policyNames.length === 0) {
                this.certificates.delete(t.certificateId);
                this.expiredCertificates++;
            }
        }
    }

    private async createKeysAndCertificate(client: AedesClient): Promise<void> {
        const request = "$aws/certificates/create/json";
        this.sweepExpiredTokens();
        if (this.throttled(client, "CreateKeysAndCertificate", request)) return;
        // As AWS IoT does: an RSA 2048-bit key, the private key in PKCS#1 PEM.
        const issued = await this.ca.issueRsa();
        this.certificates.set(issued.certificateId, { certificateId: issued.certificateId, certificatePem: issued.certPem, status: "PENDING_ACTIVATION", policyNames: [], things: [], creationDate: new Date() });
        const token = this.newToken(issued.certificateId);
        this.answer(client, `${request}/accepted`, {
            certificateId: issued.certificateId, certificatePem: issued.certPem, privateKey: issued.keyPem, certificateOwnershipToken: token,
        });
    }

    /** CreateCertificateFromCsr: the double's CA signs the CSR's public key; the answer carries no key. */
    private async createCertificateFromCsr(client: AedesClient, payload: Buffer): Promise<void> {
        const request = "$aws/certificates/create-from-csr/json";
        this.sweepExpiredTokens();
        if (this.throttled(client, "CreateCertificateFromCsr", request)) return;
        let csr: x509.Pkcs10CertificateRequest;
        try {
            const body = JSON.parse(payload.toString("utf8")) as { certificateSigningRequest?: unknown };
            if (typeof body.certificateSigningRequest !== "string") throw new Error("no CSR");
            csr = new x509.Pkcs10CertificateRequest(body.certificateSigningRequest);
            if (!(await csr.verify())) throw new Error("bad signature");
        } catch {
            return this.reject(client, request, 400, "InvalidCertificateSigningRequest", "The certificate signing request is not valid");
        }
        let issued: { certPem: string; certificateId: string };
        if (this.o.certificateProvider) {
            const body = JSON.parse(payload.toString("utf8")) as { certificateSigningRequest: string };
            try {
                const { certificatePem } = await this.o.certificateProvider({
                    certificateSigningRequest: body.certificateSigningRequest, principalId: this.certificateOf(client)?.certificateId ?? "", clientId: client.id,
                });
                issued = { certPem: certificatePem, certificateId: crypto.createHash("sha256").update(new crypto.X509Certificate(certificatePem).raw).digest("hex") };
            } catch {
                return this.reject(client, request, 400, "InvalidCertificateSigningRequest", "The certificate provider did not issue a certificate");
            }
        } else {
            issued = await this.ca.sign(csr.publicKey);
        }
        this.certificates.set(issued.certificateId, { certificateId: issued.certificateId, certificatePem: issued.certPem, status: "PENDING_ACTIVATION", policyNames: [], things: [], creationDate: new Date() });
        const token = this.newToken(issued.certificateId);
        this.answer(client, `${request}/accepted`, { certificateId: issued.certificateId, certificatePem: issued.certPem, certificateOwnershipToken: token });
    }

    /** The AWS IoT control-plane calls our Lambdas make, as an SDK client's `send`, over this double's state. */
    iotApi(): { send(command: { constructor: { name: string }; input: any }): Promise<any> } {
        const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { name: "ResourceNotFoundException" });
        const arn = (id: string) => `arn:aws:iot:${this.o.region}:${this.o.accountId}:cert/${id}`;
        return {
            send: async (command) => {
                const input = command.input;
                switch (command.constructor.name) {
                    case "DescribeThingCommand": {
                        const thing = this.things.get(input.thingName);
                        if (!thing) throw notFound(`Thing ${input.thingName}`);
                        return { thingName: input.thingName, attributes: thing.attributes, thingTypeName: thing.thingTypeName };
                    }
                    case "CreateThingCommand":
                        if (this.things.has(input.thingName)) throw Object.assign(new Error("exists"), { name: "ResourceAlreadyExistsException" });
                        this.things.set(input.thingName, { attributes: { ...(input.attributePayload?.attributes ?? {}) }, thingGroups: [], thingTypeName: input.thingTypeName, principals: [] });
                        return { thingName: input.thingName };
                    case "UpdateThingCommand": {
                        const thing = this.things.get(input.thingName);
                        if (!thing) throw notFound(`Thing ${input.thingName}`);
                        thing.attributes = input.attributePayload?.merge ? { ...thing.attributes, ...input.attributePayload.attributes } : { ...(input.attributePayload?.attributes ?? {}) };
                        return {};
                    }
                    case "AddThingToThingGroupCommand": {
                        const thing = this.things.get(input.thingName);
                        if (!thing) throw notFound(`Thing ${input.thingName}`);
                        if (!thing.thingGroups.includes(input.thingGroupName)) thing.thingGroups.push(input.thingGroupName);
                        return {};
                    }
                    case "AttachPolicyCommand": {
                        const id = /cert\/([0-9a-f]{64})$/.exec(input.target)?.[1] ?? "";
                        const c = this.certificates.get(id);
                        if (!c || !this.o.policies[input.policyName]) throw notFound(`certificate or policy ${input.policyName}`);
                        if (!c.policyNames.includes(input.policyName)) c.policyNames.push(input.policyName);
                        return {};
                    }
                    case "AttachThingPrincipalCommand": {
                        const id = /cert\/([0-9a-f]{64})$/.exec(input.principal)?.[1] ?? "";
                        const thing = this.things.get(input.thingName);
                        const c = this.certificates.get(id);
                        if (!thing || !c) throw notFound(`Thing ${input.thingName} or its certificate`);
                        if (!thing.principals.includes(id)) thing.principals.push(id);
                        if (!c.things.includes(input.thingName)) c.things.push(input.thingName);
                        return {};
                    }
                    case "ListThingPrincipalsCommand": {
                        const thing = this.things.get(input.thingName);
                        if (!thing) throw notFound(`Thing ${input.thingName}`);
                        return { principals: thing.principals.map(arn) };
                    }
                    case "DescribeCertificateCommand": {
                        const c = this.certificates.get(input.certificateId);
                        if (!c) throw notFound(`certificate ${input.certificateId}`);
                        // AWS IoT API reference, DescribeCertificate: certificateDescription carries certificatePem too.
                        return { certificateDescription: { certificateId: c.certificateId, certificateArn: arn(c.certificateId), caCertificateId: c.caCertificateId, certificatePem: c.certificatePem, status: c.status, creationDate: c.creationDate } };
                    }
                    case "UpdateCertificateCommand": {
                        const c = this.certificates.get(input.certificateId);
                        if (!c) throw notFound(`certificate ${input.certificateId}`);
                        c.status = input.newStatus;
                        return {};
                    }
                    case "DetachThingPrincipalCommand": {
                        const id = /cert\/([0-9a-f]{64})$/.exec(input.principal)?.[1] ?? "";
                        const thing = this.things.get(input.thingName);
                        if (thing) thing.principals = thing.principals.filter((p) => p !== id);
                        const c = this.certificates.get(id);
                        if (c) c.things = c.things.filter((t) => t !== input.thingName);
                        return {};
                    }
                    case "ListAuditTasksCommand":
                        return { tasks: [] };
                    default:
                        throw new Error(`the double does not serve ${command.constructor.name}`);
                }
            },
        };
    }

    private async registerThing(client: AedesClient, templateName: string, payload: Buffer): Promise<void> {
        const request = `$aws/provisioning-templates/${templateName}/provision/json`;
        this.sweepExpiredTokens();
        if (this.throttled(client, "RegisterThing", request)) return;
        const body = this.o.templates[templateName];
        if (!body) return this.reject(client, request, 404, "ResourceNotFoundException", `Template ${templateName} does not exist`);
        let parsed: { certificateOwnershipToken?: unknown; parameters?: Record<string, string> };
        try {
            parsed = JSON.parse(payload.toString("utf8"));
        } catch {
            return this.reject(client, request, 400, "InvalidPayload", "The payload is not JSON");
        }
        const token = typeof parsed.certificateOwnershipToken === "string" ? this.tokens.get(parsed.certificateOwnershipToken) : undefined;
        if (!token || token.expires < this.now()) return this.reject(client, request, 400, "InvalidCertificateOwnershipToken", "The certificate ownership token is invalid or expired");
        const created = this.certificates.get(token.certificateId)!;
        const parameters = parsed.parameters ?? {};
        const event = {
            claimCertificateId: this.certificateOf(client)?.certificateId,
            certificateId: created.certificateId,
            certificatePem: created.certificatePem,
            templateArn: `arn:aws:iot:${this.o.region}:${this.o.accountId}:provisioningtemplate/${templateName}`,
            clientId: client.id,
            parameters,
        };
        if (this.keepLogs) this.hookEvents.push(event);
        const decision = await Promise.race([
            this.o.hook(event),
            new Promise<HookResult>((resolve) => setTimeout(() => resolve({ allowProvisioning: false }), 5000)),
        ]);
        if (decision.allowProvisioning !== true) {
            return this.reject(client, request, 403, "AccessDenied", "The pre-provisioning hook denied the request");
        }
        let resources;
        try {
            resources = evaluateTemplate(body as never, { ...parameters, ...(decision.parameterOverrides ?? {}), "AWS::IoT::Certificate::Id": created.certificateId });
        } catch (err) {
            if (err instanceof TemplateError) return this.reject(client, request, 400, "InvalidRequest", err.message);
            throw err;
        }
        // Policies the template creates (PolicyDocument): created once, then attached like named ones.
        for (const [name, document] of Object.entries(resources.createdPolicies)) {
            if (!this.o.policies[name]) this.o.policies[name] = JSON.parse(document) as PolicyDocument;
            if (!this.createdPolicies.includes(name)) this.createdPolicies.push(name);
        }
        const missing = resources.policyNames.filter((n) => !this.o.policies[n]);
        if (resources.certificateId !== created.certificateId || missing.length > 0) {
            return this.reject(client, request, 400, "InvalidRequest", `the template names an unknown certificate or policy ${missing.join(", ")}`);
        }
        this.tokens.delete(parsed.certificateOwnershipToken as string);
        // An existing Thing keeps its principals and, per OverrideSettings, its group (DO_NOTHING) while its
        // attributes and type are replaced (REPLACE); the new certificate is attached beside the old one.
        // AWS IoT developer guide, "Provisioning templates > Resources section": OverrideSettings say what
        // happens to each property of a Thing that already exists. Our templates use only REPLACE and
        // DO_NOTHING; this double knows nothing else (MERGE, FAIL) and the template test pins those two.
        const existing = this.things.get(resources.thingName);
        this.things.set(resources.thingName, {
            attributes: resources.attributes,
            thingGroups: existing ? existing.thingGroups : resources.thingGroups,
            thingTypeName: resources.thingTypeName,
            principals: [...(existing?.principals ?? []), created.certificateId],
        });
        Object.assign(created, { status: resources.certificateStatus, things: [...created.things, resources.thingName], policyNames: resources.policyNames });
        this.answer(client, `${request}/accepted`, { deviceConfiguration: {}, thingName: resources.thingName });
    }
}
