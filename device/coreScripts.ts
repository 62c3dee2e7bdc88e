/**
 * The scripts `edge-config` ships with a core's files, run ON THE CORE as root with what every core has
 * (POSIX sh, openssl, sha256sum, the nucleus' own files): no Node.js, no copy of this repository.
 *
 * - `fms-core-keygen.sh` (device-key mode): the core's key is made on the unit, never on the factory
 *   station. It writes the key where the plugin's `csrPrivateKeyPath` points (mode 0600, root) and the CSR
 *   at `csrPath`, and prints the registration line `serial,publicKey,template` (publicKey: SHA-256 of the
 *   key's DER SubjectPublicKeyInfo, as components/runtime/keyFingerprint.ts and the hook compute it). The
 *   station gets that line (or the CSR: `edge-register --csr`), never the key.
 * - `fms-core-cleanup.sh`: once the nucleus has connected with its own certificate (its log line
 *   "Successfully connected to AWS IoT Core": aws-greengrass-nucleus v2.16.1 AwsIotMqttClient.java L284), it
 *   removes what provisioning and rotation leave behind: the claim certificate and key (the fleet's shared
 *   claim, which no provisioned core needs again), the key copy the plugin read at `csrPrivateKeyPath` (it
 *   copied it to privKey.key: FleetProvisioningByClaimPlugin.java L195-197, v1.2.2), the CSR, the
 *   registration line, and `*.previous` / `*.unconfirmed` certificates and keys of a finished rotation; and
 *   keeps privKey.key root-only (0600), as the plugin leaves it.
 *
 * Every path is the device's; `FMS_CORE_ROOT` replaces the root (`/greengrass/v2`) for a dry run in a copy.
 */
import * as path from "path";
import { FILES } from "./credentials";
import { CORE_FILES } from "./coreFiles";
import { NUCLEUS_CONNECTED } from "./coreRotation";

export const CORE_SCRIPTS = {
    keygen: "fms-core-keygen.sh", cleanup: "fms-core-cleanup.sh", rotate: "fms-core-rotate.py", rotateSettings: "fms-core-rotate.json",
    checkService: "fms-core-check.service", checkTimer: "fms-core-check.timer",
} as const;

/**
 * How often a core re-runs `fms-core-rotate.py --confirm` (minutes): four times within the stack's confirmation window
 * (`provisioning.rotation.confirmTimeoutHours`), every 15 minutes at the most and 6 hours at the least, so a core whose
 * confirmation was lost confirms again before the sweep retires its new certificate, and a core whose certificate
 * was retired anyway falls back to the previous one by itself (device/fallback.ts, the same algorithm).
 */
export function coreCheckMinutes(confirmTimeoutHours: number): number {
    return Math.min(360, Math.max(15, Math.floor((confirmTimeoutHours * 60) / 4)));
}

/**
 * The systemd units that schedule it (systemd.timer(5): OnBootSec, OnUnitActiveSec and RandomizedDelaySec;
 * systemd.service(5): Type=oneshot), installed by the operator into /etc/systemd/system (docs/greengrass.md). It runs
 * as root, as the script must (the plugin leaves privKey.key readable by root only).
 */
export function coreCheckUnits(a: { rootPath: string; confirmTimeoutHours: number }): { service: string; timer: string } {
    const every = coreCheckMinutes(a.confirmTimeoutHours);
    const script = path.posix.join(a.rootPath, CORE_SCRIPTS.rotate);
    return {
        service: `[Unit]
Description=FMS: confirm this Greengrass core's certificate, or fall back to the previous one if AWS IoT refuses it
Wants=network-online.target
After=network-online.target greengrass.service

[Service]
Type=oneshot
ExecStart=/usr/bin/env python3 ${script} --confirm
`,
        timer: `[Unit]
Description=FMS: run ${CORE_SCRIPTS.checkService} every ${every} minutes (four times within the stack's ${a.confirmTimeoutHours} h confirmation window)

[Timer]
OnBootSec=10min
OnUnitActiveSec=${every}min
RandomizedDelaySec=${Math.max(1, Math.floor(every / 4))}min

[Install]
WantedBy=timers.target
`,
    };
}

/**
 * `fms-core-rotate.py`: the core's certificate rotation on the core (python3's standard library and openssl),
 * in device/coreRotation.ts's order: new key and certificate, restart, wait for the nucleus' connection, confirm.
 */
export const CORE_ROTATE_SOURCE = path.join(__dirname, "core", "fms_core_rotate.py");

/** A value for a single-quoted sh string. */
const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A device path as the script names it: under "$ROOT" when it is under the root. */
function under(rootPath: string, p: string): string {
    const rel = path.posix.relative(rootPath, p);
    return rel.startsWith("..") || path.posix.isAbsolute(rel) ? q(p) : `"$ROOT"/${q(rel)}`;
}

const HEADER = (rootPath: string, what: string) => `#!/bin/sh
# ${what}
# Written by npm run device -- edge-config; run on the core as root. FMS_CORE_ROOT replaces the root for a dry run.
set -eu
ROOT="\${FMS_CORE_ROOT:-${rootPath}}"
`;

export function keygenScript(a: { rootPath: string; serial: string; thingName: string; template: string }): string {
    return `${HEADER(a.rootPath, `Makes ${a.thingName}'s key on this unit (never on the station) and prints the line that registers it.`)}KEY="$ROOT"/${q(CORE_FILES.csrPrivateKey)}
CSR="$ROOT"/${q(CORE_FILES.csr)}
REG="$ROOT"/${q(CORE_FILES.registration)}
if [ -e "$KEY" ]; then echo "fms-core-keygen: $KEY exists: not replaced (a registered key is never remade)" >&2; exit 1; fi
umask 077
# ECDSA P-256, PKCS#8 (what the plugin copies to privKey.key and the nucleus reads); the CSR for the plugin's csrPath.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEY.tmp"
openssl req -new -key "$KEY.tmp" -subj ${q(`/CN=${a.thingName}`)} -out "$CSR.tmp"
chmod 600 "$KEY.tmp"
mv "$KEY.tmp" "$KEY"
mv "$CSR.tmp" "$CSR"
chmod 644 "$CSR"
FINGERPRINT=$(openssl pkey -in "$KEY" -pubout -outform DER | sha256sum | cut -d' ' -f1)
LINE=${q(a.serial)},"$FINGERPRINT",${q(a.template)}
printf 'serial,publicKey,template\\n%s\\n' "$LINE" > "$REG"
chmod 644 "$REG"
echo "register this unit before it boots (the key stays here): $LINE" >&2
printf '%s\\n' "$LINE"
`;
}

export function cleanupScript(a: { rootPath: string; claimDir: string }): string {
    const claimCert = under(a.rootPath, path.posix.join(a.claimDir, FILES.certificate));
    const claimKey = under(a.rootPath, path.posix.join(a.claimDir, FILES.privateKey));
    const leftovers = [CORE_FILES.csrPrivateKey, CORE_FILES.csr, CORE_FILES.registration,
        ...[CORE_FILES.certificate, CORE_FILES.privateKey].flatMap((f) => [`${f}.previous`, `${f}.unconfirmed`])];
    return `${HEADER(a.rootPath, "Removes the claim certificate, the key copy and rotation leftovers once the nucleus runs on its own certificate.")}LOG="$ROOT"/logs/greengrass.log
if [ ! -s "$ROOT"/${q(CORE_FILES.certificate)} ] || [ ! -s "$ROOT"/${q(CORE_FILES.privateKey)} ]; then
  echo "fms-core-cleanup: no ${CORE_FILES.certificate} and ${CORE_FILES.privateKey} in $ROOT: not provisioned; nothing removed" >&2; exit 1
fi
if [ ! -f "$LOG" ] || ! grep -q ${q(NUCLEUS_CONNECTED)} "$LOG"; then
  echo "fms-core-cleanup: the nucleus has not logged a connection in $LOG yet: nothing removed (the claim may still be needed)" >&2; exit 1
fi
for f in ${claimCert} ${claimKey} ${leftovers.map((f) => `"$ROOT"/${q(f)}`).join(" ")}; do
  if [ -e "$f" ]; then rm -f "$f"; echo "removed $f"; fi
done
rmdir ${under(a.rootPath, a.claimDir)} 2>/dev/null || true
chmod 600 "$ROOT"/${q(CORE_FILES.privateKey)}
echo "fms-core-cleanup: done; ${CORE_FILES.privateKey} is root-only" >&2
`;
}
