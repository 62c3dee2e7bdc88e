/** Every actor's ledger. A new Lambda, topic rule, role or IoT policy needs an entry here (test/awsReferees.test.ts). */
import type { ActorLedger } from "./types";
import { provisioningHook } from "./provisioningHook";
import { certificateProvider } from "./certificateProvider";
import { rotationConfirm, rotationSweep } from "./rotation";
import { destinationWatch, ruleEngine } from "./routing";
import { audit, confirmErrors, iotLogging, notifier } from "./operations";
import { provisioningRole } from "./provisioningRole";
import { tokenExchange } from "./tokenExchange";
import { mqttClaim, mqttCore, mqttCoreAfterRotation, mqttCoreRotation, mqttVehicle } from "./mqtt";
import { alarmsUseKey, eventsInvoke, iotInvokes } from "./services";
import { jitrErrors, justInTimeRegistration } from "./justInTimeRegistration";

export const LEDGER: ActorLedger[] = [
    provisioningHook, rotationConfirm, rotationSweep, destinationWatch, ruleEngine, notifier, iotLogging, audit, confirmErrors,
    provisioningRole, certificateProvider, tokenExchange, mqttClaim, mqttVehicle, mqttCore, mqttCoreRotation, mqttCoreAfterRotation, iotInvokes, eventsInvoke, alarmsUseKey,
    justInTimeRegistration, jitrErrors,
];
