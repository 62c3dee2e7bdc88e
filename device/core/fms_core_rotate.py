#!/usr/bin/env python3
"""Rotates a Greengrass core's certificate ON THE CORE, with what every core has: python3 (the standard library
only) and openssl. Shipped by `npm run device -- edge-config` beside config.yaml, with its settings in
fms-core-rotate.json; run as root (the plugin leaves privKey.key readable by root only):

    sudo python3 /greengrass/v2/fms-core-rotate.py

The same steps as the device CLI's `rotate --core-root` (device/coreRotation.ts), in the same order:
1. a new ECDSA P-256 key and its CSR (openssl), on the core;
2. connect with the core's current certificate as <thing>#rotate (the per-core policy allows <thing>#*, and the
   running nucleus keeps <thing>), CreateCertificateFromCsr and RegisterThing through the core rotation template
   (AWS IoT fleet provisioning MQTT API: $aws/certificates/create-from-csr/json, then
   $aws/provisioning-templates/<template>/provision/json; developer guide, "Device provisioning MQTT API");
3. the new certificate and key replace thingCert.crt and privKey.key (0600), the old ones kept as *.previous;
4. restart the nucleus (it reads its certificate files only when it builds its connections) and wait until it
   logs "Successfully connected to AWS IoT Core" (aws-greengrass-nucleus v2.16.1, AwsIotMqttClient.java L284);
5. only then confirm through Basic Ingest ($aws/rules/<rule>/certificates/confirm), with the new certificate.
Before step 2 (and with --confirm) it connects as the device algorithm does: if AWS IoT refuses the current certificate
and *.previous exists, it falls back to it (the two swap places, the nucleus restarts on them, then it is confirmed
again); both refused ends with exit 1. If the nucleus does not connect, the previous files are put back (the new ones kept as *.unconfirmed) and the
nucleus restarted on them; nothing is confirmed, and the stack retires the unconfirmed certificate.

MQTT 3.1.1 (OASIS standard) over TLS: CONNECT, SUBSCRIBE, PUBLISH at QoS 1 and their acknowledgements only.
Environment (tests, dry runs): FMS_CORE_ROOT replaces the root, FMS_RESTART_COMMAND the restart command.
edge-config also ships fms-core-check.service and .timer, which run --confirm several times within the stack's
confirmation window, so a core whose confirmation was lost, or whose new certificate was retired, comes back by
itself. One run at a time (a lock file in the root): a second exits 75 and changes nothing.
"""
import json
import os
import shlex
import socket
import ssl
import struct
import subprocess
import sys
import time

CONNECTED = "Successfully connected to AWS IoT Core"


def fail(message):
    sys.stderr.write("fms-core-rotate: %s\n" % message)
    sys.exit(1)


class Mqtt:
    """Just enough MQTT 3.1.1 for request/answer topics: one connection, QoS 1 publishes, answers read in order."""

    def __init__(self, host, port, client_id, cert, key, ca, timeout):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.load_cert_chain(cert, key)
        if port == 443:
            ctx.set_alpn_protocols(["x-amzn-mqtt-ca"])
        self.timeout = timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        self.next_id = 0
        self.inbox = []
        body = self._str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + self._str(client_id)
        self._send(0x10, body)
        kind, data = self._read()
        if kind != 0x20 or len(data) < 2 or data[1] != 0:
            raise RuntimeError("the broker refused the connection of %s (CONNACK %r)" % (client_id, data))

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("!H", len(b)) + b

    def _send(self, header, body):
        n, length = len(body), b""
        while True:
            byte, n = n % 128, n // 128
            length += bytes([byte | (0x80 if n else 0)])
            if not n:
                break
        self.sock.sendall(bytes([header]) + length + body)

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise RuntimeError("the broker closed the connection")
            out += chunk
        return out

    def _read(self):
        header = self._exact(1)[0]
        mult, length = 1, 0
        while True:
            byte = self._exact(1)[0]
            length += (byte & 0x7F) * mult
            mult *= 128
            if not byte & 0x80:
                break
        data = self._exact(length) if length else b""
        if header & 0xF0 == 0x30:
            qos = (header >> 1) & 3
            tlen = struct.unpack("!H", data[:2])[0]
            topic = data[2:2 + tlen].decode("utf-8")
            rest = data[2 + tlen:]
            if qos:
                self._send(0x40, rest[:2])
                rest = rest[2:]
            self.inbox.append((topic, rest))
            return 0x30, None
        return header & 0xF0, data

    def _expect(self, kind):
        """Reads until a packet of this kind (answers that arrive first wait in the inbox)."""
        while True:
            got, data = self._read()
            if got == kind:
                return data
            if got != 0x30:
                raise RuntimeError("unexpected MQTT packet 0x%02x" % got)

    def _packet_id(self):
        self.next_id = self.next_id % 65535 + 1
        return struct.pack("!H", self.next_id)

    def subscribe(self, topics):
        body = self._packet_id() + b"".join(self._str(t) + bytes([1]) for t in topics)
        self._send(0x82, body)
        data = self._expect(0x90)
        if any(b == 0x80 for b in data[2:]):
            raise RuntimeError("the broker refused the subscription to %s" % ", ".join(topics))

    def publish(self, topic, payload):
        self._send(0x32, self._str(topic) + self._packet_id() + json.dumps(payload).encode("utf-8"))
        self._expect(0x40)

    def call(self, name, request, payload):
        """Publishes to request and returns the answer on request/accepted; raises on request/rejected."""
        self.subscribe([request + "/accepted", request + "/rejected"])
        self.publish(request, payload)
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            while self.inbox:
                topic, body = self.inbox.pop(0)
                if topic == request + "/accepted":
                    return json.loads(body.decode("utf-8"))
                if topic == request + "/rejected":
                    raise RuntimeError("%s rejected: %s" % (name, body.decode("utf-8")))
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                self._read()
            except socket.timeout:
                break
        raise RuntimeError("%s: no answer within %d s" % (name, self.timeout))

    def close(self):
        try:
            self._send(0xE0, b"")
        finally:
            self.sock.close()


def log_position(log):
    return os.stat(log).st_size if os.path.exists(log) else 0


def connected_since(log, position, timeout):
    deadline = time.time() + timeout
    while True:
        if os.path.exists(log):
            size = os.stat(log).st_size
            start = position if size >= position else 0
            with open(log, "rb") as f:
                f.seek(start)
                if CONNECTED.encode("utf-8") in f.read():
                    return True
        if time.time() >= deadline:
            return False
        time.sleep(0.5)


def refused(err):
    """AWS IoT answered and refused (a certificate that is not ACTIVE cannot connect: AWS IoT API reference,
    UpdateCertificate): a TLS alert or a closed connection. Not a timeout and not a network that never reached AWS."""
    if isinstance(err, (socket.timeout, ConnectionRefusedError, socket.gaierror)):
        return False
    return isinstance(err, (RuntimeError, ssl.SSLError, ConnectionResetError, BrokenPipeError))


def fall_back(s, cert, key, ca, timeout, restart, log):
    """The device algorithm (device/fallback.ts): the current certificate refused at connect and *.previous present ->
    connect with the previous one; only if it connects do the two swap places, the nucleus restarts on them and, once
    it has connected, the previous certificate is confirmed again. Both refused: nothing works (quarantined or both
    retired), said and exit 1. Returns True when it fell back."""
    client = s["thingName"] + "#rotate"
    try:
        Mqtt(s["endpoint"], int(s["port"]), client, cert, key, ca, timeout).close()
        return False
    except Exception as err:
        if not refused(err):
            fail("cannot reach AWS IoT (%s); nothing changed" % err)
        if not (os.path.exists(cert + ".previous") and os.path.exists(key + ".previous")):
            fail("AWS IoT refused %s (%s) and there is no %s.previous to fall back to" % (cert, err, cert))
        first = err
    try:
        Mqtt(s["endpoint"], int(s["port"]), client, cert + ".previous", key + ".previous", ca, timeout).close()
    except Exception as err:
        fail("AWS IoT refused both %s and %s.previous (%s; %s): the core is quarantined or both certificates are retired; "
             "it needs a rearm and a new provisioning" % (cert, cert, first, err))
    for current in (cert, key):
        os.replace(current, current + ".swap")
        os.replace(current + ".previous", current)
        os.replace(current + ".swap", current + ".previous")
        os.chmod(current, 0o600)
    wait = int(s.get("connectTimeoutSeconds", 300))
    position = log_position(log)
    subprocess.run(restart, check=True)
    if not connected_since(log, position, wait):
        fail("fell back to the previous certificate and restarted the nucleus on it, but it has not connected within %d s: see %s" % (wait, log))
    confirm(s, cert, key, ca, timeout)
    sys.stderr.write("fms-core-rotate: AWS IoT refused %s: fell back to %s.previous (now the current one; the refused one is kept as *.previous), the nucleus connected, confirmed again\n" % (cert, cert))
    return True


def main():
    root = os.environ.get("FMS_CORE_ROOT") or os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(root, "fms-core-rotate.json")) as f:
        s = json.load(f)
    cert, key = os.path.join(root, "thingCert.crt"), os.path.join(root, "privKey.key")
    ca = os.path.join(root, "AmazonRootCA1.pem")
    log = os.path.join(root, "logs", "greengrass.log")
    restart = shlex.split(os.environ.get("FMS_RESTART_COMMAND", "systemctl restart greengrass.service"))
    timeout = int(s.get("timeoutSeconds", 10))
    thing, serial = s["thingName"], s["serial"]
    for f in (cert, key, ca):
        if not os.access(f, os.R_OK):
            fail("cannot read %s (run as root: the plugin leaves privKey.key readable by root only)" % f)
    # 0. Connect as the device algorithm does: a refused certificate falls back to *.previous first.
    fall_back(s, cert, key, ca, timeout, restart, log)

    # 1. The new key and CSR, on the core (device keys; with AWS-made keys, AWS IoT sends the key in step 2).
    new_key, new_csr, new_cert = key + ".pending", cert + ".csr.pending", cert + ".pending"
    csr = None
    if s.get("csr", True):
        old_umask = os.umask(0o077)
        try:
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", new_key], check=True, capture_output=True)
            subprocess.run(["openssl", "req", "-new", "-key", new_key, "-subj", "/CN=" + serial, "-out", new_csr], check=True, capture_output=True)
        finally:
            os.umask(old_umask)
        with open(new_csr) as f:
            csr = f.read()
        os.remove(new_csr)

    # 2. A certificate for it, registered to this core's Thing, over the core's current certificate.
    try:
        m = Mqtt(s["endpoint"], int(s["port"]), thing + "#rotate", cert, key, ca, timeout)
        try:
            if csr is not None:
                made = m.call("CreateCertificateFromCsr", "$aws/certificates/create-from-csr/json", {"certificateSigningRequest": csr})
            else:
                made = m.call("CreateKeysAndCertificate", "$aws/certificates/create/json", {})
                fd = os.open(new_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(made["privateKey"])
            registered = m.call("RegisterThing", "$aws/provisioning-templates/%s/provision/json" % s["rotationTemplate"],
                                {"certificateOwnershipToken": made["certificateOwnershipToken"], "parameters": {"SerialNumber": serial}})
        finally:
            m.close()
        if registered.get("thingName") != thing:
            raise RuntimeError("RegisterThing answered for %s, not %s" % (registered.get("thingName"), thing))
    except Exception as err:
        if os.path.exists(new_key):
            os.remove(new_key)
        fail("%s; nothing changed on the core" % err)
    with open(new_cert, "w") as f:
        f.write(made["certificatePem"])
    os.chmod(new_cert, 0o600)

    # 3. Into place, the old ones kept as *.previous.
    for current, pending in ((cert, new_cert), (key, new_key)):
        os.replace(current, current + ".previous")
        os.replace(pending, current)
        os.chmod(current, 0o600)

    # 4. Restart the nucleus and wait until it has connected with them.
    wait = int(s.get("connectTimeoutSeconds", 300))
    position = log_position(log)
    subprocess.run(restart, check=True)
    if not connected_since(log, position, wait):
        for current in (cert, key):
            os.replace(current, current + ".unconfirmed")
            os.replace(current + ".previous", current)
        position = log_position(log)
        subprocess.run(restart, check=True)
        back = connected_since(log, position, wait)
        fail("the nucleus did not connect with the new certificate %s within %d s: put the previous certificate and key back "
             "(the new ones are *.unconfirmed) and restarted it%s; the new certificate is never confirmed, and the stack "
             "retires it after its confirmation timeout" % (made["certificateId"], wait, ", and it connected" if back else ", and it has not connected yet either: see " + log))

    # 5. Only now: the confirmation, with the new certificate.
    confirm(s, cert, key, ca, timeout)
    print(made["certificateId"])
    sys.stderr.write("fms-core-rotate: %s rotated to %s; the nucleus connected with it, then it was confirmed\n" % (thing, made["certificateId"]))


def confirm(s, cert, key, ca, timeout):
    """Publishes the confirmation (QoS 1, acknowledged) with the certificate in place, retried."""
    thing, last = s["thingName"], None
    for attempt in range(3):
        try:
            m = Mqtt(s["endpoint"], int(s["port"]), thing + "#rotate", cert, key, ca, timeout)
            try:
                m.publish("$aws/rules/%s/certificates/confirm" % s["confirmRule"], {"thingName": thing})
            finally:
                m.close()
            return
        except Exception as err:
            last = err
            time.sleep(1 + attempt)
    fail("the new certificate is in place and the nucleus runs on it, but its confirmation failed (%s): "
         "run this again with --confirm once the network is back" % last)


def single_run(root):
    """One run at a time on a core (fcntl.flock, exclusive, not waiting): the timer's --confirm (fms-core-check.timer)
    and an operator's rotation never swap the certificate files under each other. Exit 75 (EX_TEMPFAIL) if held."""
    import fcntl
    lock = open(os.path.join(root, ".fms-core-rotate.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.stderr.write("fms-core-rotate: another run is in progress on this core (%s holds the lock); nothing done\n" % lock.name)
        sys.exit(75)
    return lock


if __name__ == "__main__":
    held = single_run(os.environ.get("FMS_CORE_ROOT") or os.path.dirname(os.path.abspath(__file__)))
    if "--confirm" in sys.argv:
        # A rotation whose confirmation failed: confirm the certificate in place (the nucleus already runs on it).
        r = os.environ.get("FMS_CORE_ROOT") or os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(r, "fms-core-rotate.json")) as f:
            settings = json.load(f)
        files = (os.path.join(r, "thingCert.crt"), os.path.join(r, "privKey.key"), os.path.join(r, "AmazonRootCA1.pem"), int(settings.get("timeoutSeconds", 10)))
        restart_command = shlex.split(os.environ.get("FMS_RESTART_COMMAND", "systemctl restart greengrass.service"))
        if not fall_back(settings, *files, restart_command, os.path.join(r, "logs", "greengrass.log")):
            confirm(settings, *files)
        sys.stderr.write("fms-core-rotate: confirmed the certificate in place\n")
    else:
        main()
