// A nucleus "restart" for tests of the core-side rotation script (FMS_RESTART_COMMAND): connects to the broker
// double as <thing> with the certificate and key in the core's root, as a restarted nucleus does, and on success
// appends the line the nucleus logs (aws-greengrass-nucleus v2.16.1, AwsIotMqttClient.java L284) to its log.
// ONLY_CERT_SHA256 (optional): the SHA-256 of the one certificate file this nucleus double connects with (any other
// fails to connect, as a nucleus whose new certificate AWS IoT refuses).
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const mqtt = require("mqtt");
const root = process.env.FMS_CORE_ROOT;
const cert = fs.readFileSync(path.join(root, "thingCert.crt"), "utf8");
const sha = crypto.createHash("sha256").update(cert).digest("hex");
fs.appendFileSync(path.join(root, "restarts.log"), `${sha}\n`);
if (process.env.ONLY_CERT_SHA256 && process.env.ONLY_CERT_SHA256 !== sha) process.exit(0);
const settings = JSON.parse(fs.readFileSync(path.join(root, "fms-core-rotate.json"), "utf8"));
const client = mqtt.connect({
    protocol: "mqtts", host: "localhost", port: Number(settings.port), clientId: settings.thingName, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000,
    cert, key: fs.readFileSync(path.join(root, "privKey.key"), "utf8"), ca: fs.readFileSync(path.join(root, "AmazonRootCA1.pem"), "utf8"),
});
client.once("connect", () => {
    fs.mkdirSync(path.join(root, "logs"), { recursive: true });
    fs.appendFileSync(path.join(root, "logs", "greengrass.log"), `${JSON.stringify({ level: "INFO", message: "Successfully connected to AWS IoT Core" })}\n`);
    client.end(true, () => process.exit(0));
});
client.once("error", () => process.exit(0));
client.once("close", () => process.exit(0));
