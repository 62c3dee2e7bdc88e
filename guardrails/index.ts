/**
 * FMS IoT guardrails as a Pulumi policy pack:
 *   pulumi preview --policy-pack guardrails
 * The rules live in ./rules.ts; `npm run plan` runs the same rules offline.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("fms-iot-guardrails", { policies: POLICIES });
