import { z } from "zod";
import { AWS_QUOTAS, cite, FLEET_PROVISIONING_RATES, NOMINAL_REQUESTS, projectOnboarding } from "./awsQuotas";
import { ConfigError } from "./errors";
import { section, wholeNumber } from "./schema";

/**
 * The `fleet` section: the fleet a stack declares it will onboard, checked at plan time against AWS's quotas
 * (config/awsQuotas.ts). Optional: without it nothing is checked and nothing changes.
 */
export const fleetSchema = section({
    vehicles: wholeNumber(0, 100_000_000).optional().meta({ description: "vehicles this stack will provision (its serials)" }),
    cores: wholeNumber(0, 100_000_000).optional().meta({ description: "Greengrass cores among them, each with its own IoT policy (needs the greengrass section)" }),
    onboardingHours: wholeNumber(1, 8760).optional()
        .meta({ description: "the window in which they all come online (a launch, a campaign): checked against AWS's fleet-provisioning rates" }),
    registerThingRate: wholeNumber(1, 100_000).optional()
        .meta({ description: "the RegisterThing rate AWS granted this account (requests/s) after a quota increase; AWS's default when absent" }),
}, "the fleet this stack declares: sizes and onboarding window, checked against AWS's quotas").optional();

export type FleetConfig = { vehicles: number; cores: number; onboardingHours?: number; registerThingRate: number };

/** Resolves and checks the section: each problem is one line naming the key, the quota and its AWS page. */
export function resolveFleet(key: string, f: z.output<typeof fleetSchema>, greengrass: boolean): FleetConfig | undefined {
    if (!f) return undefined;
    const vehicles = f.vehicles ?? 0;
    const cores = f.cores ?? 0;
    const registerThingRate = f.registerThingRate ?? FLEET_PROVISIONING_RATES.RegisterThing;
    if (cores > 0 && !greengrass) throw new ConfigError(`${key}.cores`, cores, "0 without a greengrass section (cores are provisioned through the core template it creates)");
    const perGroup = AWS_QUOTAS.greengrassCoreDevicesPerThingGroupDeployment;
    if (cores > perGroup.value) {
        throw new ConfigError(`${key}.cores`, cores, `at most ${perGroup.value} (the stack's one deployment targets its core thing group, and ${cite("greengrassCoreDevicesPerThingGroupDeployment")}); request an increase before launch, then raise this check with it`);
    }
    if (f.onboardingHours !== undefined && vehicles + cores > 0) {
        const p = projectOnboarding(vehicles + cores, NOMINAL_REQUESTS(1), { ...FLEET_PROVISIONING_RATES, RegisterThing: registerThingRate });
        const window = f.onboardingHours * 3600;
        if (p.seconds > window) {
            const needed = Math.ceil((vehicles + cores) / window);
            throw new ConfigError(`${key}.onboardingHours`, f.onboardingHours,
                `${vehicles + cores} units need ${(p.seconds / 3600).toFixed(1)} h at ${registerThingRate} RegisterThing requests/s (${cite("registerThingRate")}): request an increase to at least ${needed}/s before launch and record it as ${key}.registerThingRate, or widen the window`);
        }
    }
    return { vehicles, cores, onboardingHours: f.onboardingHours, registerThingRate };
}
