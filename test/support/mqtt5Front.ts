/**
 * MQTT 5 in front of the broker double: aedes (the double's broker) speaks MQTT 3.1.1 only, so this
 * terminates a client's MQTT 5 over mutual TLS, translates each packet to 3.1.1 for the double and
 * each answer back to MQTT 5 (mqtt-packet parses and writes both), and hands the double the TLS
 * socket's client certificate. Reason codes as AWS IoT Core's MQTT 5 lists them: a refused CONNECT
 * is CONNACK 0x87 "Not authorized", a refused subscription SUBACK 0x87. Properties are dropped
 * (the double models none), so a client that depends on them is not exercised here.
 */
import * as net from "net";
import { Duplex, PassThrough } from "stream";
import * as tls from "tls";
import * as mqttPacket from "mqtt-packet";
import { Issued, TestCa } from "./x509";

const NOT_AUTHORIZED = 0x87;
const UNSPECIFIED = 0x80;

/** A client packet (MQTT 5) as the double's broker (MQTT 3.1.1) takes it. */
function toV4(p: mqttPacket.Packet): mqttPacket.Packet | undefined {
    switch (p.cmd) {
        case "connect": {
            const c = p as mqttPacket.IConnectPacket;
            return { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: c.clean, keepalive: c.keepalive, clientId: c.clientId } as mqttPacket.IConnectPacket;
        }
        case "subscribe": {
            const s = p as mqttPacket.ISubscribePacket;
            return { cmd: "subscribe", messageId: s.messageId, subscriptions: s.subscriptions.map((x) => ({ topic: x.topic, qos: x.qos })) } as mqttPacket.ISubscribePacket;
        }
        case "unsubscribe": {
            const u = p as mqttPacket.IUnsubscribePacket;
            return { cmd: "unsubscribe", messageId: u.messageId, unsubscriptions: u.unsubscriptions } as mqttPacket.IUnsubscribePacket;
        }
        case "publish": {
            const m = p as mqttPacket.IPublishPacket;
            return { cmd: "publish", topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: m.dup, messageId: m.messageId } as mqttPacket.IPublishPacket;
        }
        case "puback": return { cmd: "puback", messageId: (p as mqttPacket.IPubackPacket).messageId } as mqttPacket.IPubackPacket;
        case "pingreq": return { cmd: "pingreq" } as mqttPacket.IPingreqPacket;
        case "disconnect": return { cmd: "disconnect" } as mqttPacket.IDisconnectPacket;
        default: return undefined;
    }
}

/** The broker's answer (MQTT 3.1.1) as an MQTT 5 client takes it. */
function toV5(p: mqttPacket.Packet): mqttPacket.Packet {
    switch (p.cmd) {
        case "connack": {
            const c = p as mqttPacket.IConnackPacket;
            const code = c.returnCode === 0 ? 0 : c.returnCode === 5 ? NOT_AUTHORIZED : UNSPECIFIED;
            return { cmd: "connack", sessionPresent: c.sessionPresent, reasonCode: code } as mqttPacket.IConnackPacket;
        }
        case "suback": {
            const s = p as mqttPacket.ISubackPacket;
            return { cmd: "suback", messageId: s.messageId, granted: s.granted.map((g) => (typeof g === "number" && g >= 128 ? NOT_AUTHORIZED : g)) } as mqttPacket.ISubackPacket;
        }
        case "puback": return { cmd: "puback", messageId: (p as mqttPacket.IPubackPacket).messageId, reasonCode: 0 } as mqttPacket.IPubackPacket;
        case "unsuback": return { cmd: "unsuback", messageId: (p as mqttPacket.IUnsubackPacket).messageId, granted: [0] } as unknown as mqttPacket.IUnsubackPacket;
        default: return p;
    }
}

export class Mqtt5Front {
    private constructor(private readonly server: tls.Server, public readonly port: number) {}

    /** Listens on loopback; each connection is bridged into `handle` (the double's aedes broker). */
    static async start(ca: TestCa, serverCert: Issued, handle: (stream: Duplex) => void): Promise<Mqtt5Front> {
        const server = tls.createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: true }, (socket) => {
            const toBroker = new PassThrough();
            const fromBroker = new PassThrough();
            const brokerSide = Duplex.from({ readable: toBroker, writable: fromBroker }) as Duplex & { getPeerCertificate?: tls.TLSSocket["getPeerCertificate"]; mqtt5?: boolean };
            brokerSide.mqtt5 = true;
            // The double identifies a device by its TLS client certificate.
            brokerSide.getPeerCertificate = socket.getPeerCertificate.bind(socket);
            const fromClient = mqttPacket.parser({ protocolVersion: 5 });
            const fromServer = mqttPacket.parser({ protocolVersion: 4 });
            fromClient.on("packet", (p: mqttPacket.Packet) => { const v4 = toV4(p); if (v4) toBroker.write(mqttPacket.generate(v4)); });
            fromServer.on("packet", (p: mqttPacket.Packet) => {
                const v5 = toV5(p);
                socket.write(mqttPacket.generate(v5, { protocolVersion: 5 }));
                // AWS IoT answers a refused CONNECT with CONNACK 0x87 and closes.
                if (p.cmd === "connack" && (v5 as mqttPacket.IConnackPacket).reasonCode !== 0) socket.end();
            });
            fromClient.on("error", () => socket.destroy());
            socket.on("data", (d) => fromClient.parse(d));
            fromBroker.on("data", (d) => fromServer.parse(d));
            fromBroker.on("end", () => socket.end());
            socket.on("close", () => { toBroker.end(); brokerSide.destroy(); });
            socket.on("error", () => undefined);
            handle(brokerSide);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return new Mqtt5Front(server, (server.address() as net.AddressInfo).port);
    }

    close(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}
