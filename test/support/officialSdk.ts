/**
 * AWS's own device SDK (aws-iot-device-sdk-v2, on aws-crt) as the reference client: whatever topics
 * and payload fields it uses for fleet provisioning are what AWS IoT speaks, so a double (or a
 * simulator) that disagrees with it fails here, not in a factory.
 */
import { iot, iotidentity, mqtt, mqtt5 } from "aws-iot-device-sdk-v2";
import { makeKeyAndCsr } from "../../device/credentials";

export interface OfficialProvisionOptions {
    host: string;
    port: number;
    caPem: string;
    claimCertPem: string;
    claimKeyPem: string;
    clientId: string;
    template: string;
    serial: string;
    timeoutMs: number;
    /** A CSR made elsewhere (the key stays there); by default a key and CSR are made here. */
    csrPem?: string;
    /** RegisterThing parameters; by default `{ SerialNumber: serial }`. */
    parameters?: Record<string, string>;
    /** CreateKeysAndCertificate (AWS makes the key: deviceKeys: aws) instead of CreateCertificateFromCsr. */
    awsKeys?: boolean;
}

function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`official SDK: timed out waiting for ${what}`)), ms); })])
        .finally(() => clearTimeout(timer));
}

/** CreateCertificateFromCsr then RegisterThing, over MQTT 3.1.1, exactly as the SDK's IotIdentityClient does them. */
export async function provisionWithOfficialSdk(o: OfficialProvisionOptions): Promise<{ thingName: string; certificateId: string; certificatePem: string; privateKeyPem: string }> {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(o.claimCertPem, o.claimKeyPem)
        .with_certificate_authority(o.caPem)
        .with_endpoint(o.host)
        .with_port(o.port)
        .with_client_id(o.clientId)
        .with_clean_session(true)
        .build();
    const connection = new mqtt.MqttClient().new_connection(config);
    await within("CONNACK", o.timeoutMs, connection.connect());
    try {
        return await provisionOver(new iotidentity.IotIdentityClient(connection), o);
    } finally {
        await connection.disconnect().catch(() => undefined);
    }
}

/** CreateKeysAndCertificate then RegisterThing through an IotIdentityClient: AWS makes the key and sends it. */
async function provisionWithAwsKeys(identity: iotidentity.IotIdentityClient, o: OfficialProvisionOptions): Promise<{ thingName: string; certificateId: string; certificatePem: string; privateKeyPem: string }> {
    const subscriptions: Promise<unknown>[] = [];
    const created = new Promise<iotidentity.model.CreateKeysAndCertificateResponse>((resolve, reject) => {
        subscriptions.push(identity.subscribeToCreateKeysAndCertificateAccepted({}, mqtt.QoS.AtLeastOnce, (err, res) => (err || !res ? reject(err ?? new Error("no answer")) : resolve(res))));
        subscriptions.push(identity.subscribeToCreateKeysAndCertificateRejected({}, mqtt.QoS.AtLeastOnce, (_e, res) => reject(new Error(`CreateKeysAndCertificate rejected: ${JSON.stringify(res)}`))));
    });
    const registered = registration(identity, o, subscriptions);
    created.catch(() => undefined);
    await within("SUBACKs", o.timeoutMs, Promise.all(subscriptions));
    await identity.publishCreateKeysAndCertificate({}, mqtt.QoS.AtLeastOnce);
    const keys = await within("CreateKeysAndCertificate", o.timeoutMs, created);
    await identity.publishRegisterThing({ templateName: o.template, certificateOwnershipToken: keys.certificateOwnershipToken!, parameters: o.parameters ?? { SerialNumber: o.serial } }, mqtt.QoS.AtLeastOnce);
    const thing = await within("RegisterThing", o.timeoutMs, registered);
    return { thingName: thing.thingName!, certificateId: keys.certificateId!, certificatePem: keys.certificatePem!, privateKeyPem: keys.privateKey! };
}

/** The RegisterThing answer, its subscriptions added to `subscriptions`. */
function registration(identity: iotidentity.IotIdentityClient, o: OfficialProvisionOptions, subscriptions: Promise<unknown>[]): Promise<iotidentity.model.RegisterThingResponse> {
    const registered = new Promise<iotidentity.model.RegisterThingResponse>((resolve, reject) => {
        subscriptions.push(identity.subscribeToRegisterThingAccepted({ templateName: o.template }, mqtt.QoS.AtLeastOnce, (err, res) => (err || !res ? reject(err ?? new Error("no answer")) : resolve(res))));
        subscriptions.push(identity.subscribeToRegisterThingRejected({ templateName: o.template }, mqtt.QoS.AtLeastOnce, (_e, res) => reject(new Error(`RegisterThing rejected: ${JSON.stringify(res)}`))));
    });
    registered.catch(() => undefined);
    return registered;
}

/** CreateCertificateFromCsr (or, with `awsKeys`, CreateKeysAndCertificate) then RegisterThing through an IotIdentityClient (over MQTT 3.1.1 or 5). */
async function provisionOver(identity: iotidentity.IotIdentityClient, o: OfficialProvisionOptions): Promise<{ thingName: string; certificateId: string; certificatePem: string; privateKeyPem: string }> {
    if (o.awsKeys) return provisionWithAwsKeys(identity, o);
    const made = o.csrPem ? { csrPem: o.csrPem, privateKeyPem: "" } : await makeKeyAndCsr(`CN=${o.serial}`);
    const subscriptions: Promise<unknown>[] = [];
    const created = new Promise<iotidentity.model.CreateCertificateFromCsrResponse>((resolve, reject) => {
        subscriptions.push(identity.subscribeToCreateCertificateFromCsrAccepted({}, mqtt.QoS.AtLeastOnce, (err, res) => (err || !res ? reject(err ?? new Error("no answer")) : resolve(res))));
        subscriptions.push(identity.subscribeToCreateCertificateFromCsrRejected({}, mqtt.QoS.AtLeastOnce, (_e, res) => reject(new Error(`CreateCertificateFromCsr rejected: ${JSON.stringify(res)}`))));
    });
    const registered = registration(identity, o, subscriptions);
    created.catch(() => undefined);
    await within("SUBACKs", o.timeoutMs, Promise.all(subscriptions));
    await identity.publishCreateCertificateFromCsr({ certificateSigningRequest: made.csrPem }, mqtt.QoS.AtLeastOnce);
    const cert = await within("CreateCertificateFromCsr", o.timeoutMs, created);
    await identity.publishRegisterThing({ templateName: o.template, certificateOwnershipToken: cert.certificateOwnershipToken!, parameters: o.parameters ?? { SerialNumber: o.serial } }, mqtt.QoS.AtLeastOnce);
    const thing = await within("RegisterThing", o.timeoutMs, registered);
    return { thingName: thing.thingName!, certificateId: cert.certificateId!, certificatePem: cert.certificatePem!, privateKeyPem: made.privateKeyPem };
}

/** An MQTT 5 client of AWS's SDK, started and connected (or the connection failure, CONNACK included). */
async function startMqtt5(o: { host: string; port: number; caPem: string; certPem: string; keyPem: string; clientId: string; timeoutMs: number }): Promise<mqtt5.Mqtt5Client> {
    const config = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(o.host, o.certPem, o.keyPem)
        .withCertificateAuthority(o.caPem)
        .withPort(o.port)
        .withConnectProperties({ clientId: o.clientId, keepAliveIntervalSeconds: 60 })
        .build();
    const client = new mqtt5.Mqtt5Client(config);
    const connected = new Promise<void>((resolve, reject) => {
        client.on("connectionSuccess", () => resolve());
        client.on("connectionFailure", (e) => reject(Object.assign(new Error(`official SDK (MQTT 5): connection failed: ${e.error.toString()}`), { connack: e.connack })));
    });
    client.start();
    try {
        await within("CONNACK", o.timeoutMs, connected);
    } catch (err) {
        client.stop();
        client.close();
        throw err;
    }
    return client;
}

async function stopMqtt5(client: mqtt5.Mqtt5Client): Promise<void> {
    const stopped = new Promise<void>((resolve) => client.on("stopped", () => resolve()));
    client.stop();
    await within("stop", 5000, stopped).catch(() => undefined);
    client.close();
}

/** The same provisioning over MQTT 5 (IotIdentityClient.newFromMqtt5Client, AWS's current sample). */
export async function provisionWithOfficialSdkMqtt5(o: OfficialProvisionOptions): Promise<{ thingName: string; certificateId: string; certificatePem: string; privateKeyPem: string }> {
    const client = await startMqtt5({ host: o.host, port: o.port, caPem: o.caPem, certPem: o.claimCertPem, keyPem: o.claimKeyPem, clientId: o.clientId, timeoutMs: o.timeoutMs });
    try {
        return await provisionOver(iotidentity.IotIdentityClient.newFromMqtt5Client(client), o);
    } finally {
        await stopMqtt5(client);
    }
}

/** Connects as the Thing over MQTT 5 and publishes one QoS 1 message to a Basic Ingest topic; the PUBACK's reason code. */
export async function publishWithOfficialSdkMqtt5(o: { host: string; port: number; caPem: string; certPem: string; keyPem: string; thingName: string; topic: string; payload: string; timeoutMs: number }): Promise<number | undefined> {
    const client = await startMqtt5({ ...o, clientId: o.thingName });
    try {
        const result = await within("PUBACK", o.timeoutMs, client.publish({ topicName: o.topic, qos: mqtt5.QoS.AtLeastOnce, payload: o.payload }));
        return (result as { reasonCode?: number } | undefined)?.reasonCode;
    } finally {
        await stopMqtt5(client);
    }
}

/** Connects as the Thing over MQTT 3.1.1 and publishes one QoS 1 message to a Basic Ingest topic (resolves on PUBACK). */
export async function publishWithOfficialSdk(o: { host: string; port: number; caPem: string; certPem: string; keyPem: string; thingName: string; topic: string; payload: string; timeoutMs: number }): Promise<void> {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(o.certPem, o.keyPem)
        .with_certificate_authority(o.caPem).with_endpoint(o.host).with_port(o.port).with_client_id(o.thingName).with_clean_session(true).build();
    const connection = new mqtt.MqttClient().new_connection(config);
    await within("CONNACK", o.timeoutMs, connection.connect());
    try {
        await within("PUBACK", o.timeoutMs, connection.publish(o.topic, o.payload, mqtt.QoS.AtLeastOnce));
    } finally {
        await connection.disconnect().catch(() => undefined);
    }
}

/**
 * CreateKeysAndCertificate then RegisterThing over MQTT 3.1.1 with the SDK's IotIdentityClient: what the
 * Greengrass plugin does without csrPath (aws-greengrass-fleet-provisioning-by-claim v1.2.2,
 * FleetProvisioningByClaimPlugin.java L171-179, through IotIdentityHelper).
 */
export async function provisionWithOfficialSdkAwsKeys(o: Omit<OfficialProvisionOptions, "csrPem" | "awsKeys">): Promise<{ thingName: string; certificateId: string; certificatePem: string; privateKeyPem: string }> {
    return provisionWithOfficialSdk({ ...o, awsKeys: true });
}
