/**
 * The AWS-provided Greengrass components this program deploys, and the versions of them AWS has
 * published that this project accepts. Where each version was seen (checked 2026-11-23):
 * - AWS IoT Greengrass V2 Developer Guide, "Document history": nucleus 2.15.1 and 2.16.0
 *   (Nov 6, 2025), 2.16.1 (Dec 23, 2025), 2.17.0 (Apr 16, 2026); log manager 2.3.11 (Nov 6, 2025);
 *   the fleet-provisioning install page's config.yaml shows nucleus 2.18.0.
 * - Release notes "AWS IoT Greengrass Core v2.11.2 / v2.11.3 / v2.12.4 software update" and the
 *   Greengrass CLI releases that follow nucleus 2.12.0 through 2.12.6.
 * - Log manager page: "We recommend upgrading to Log Manager v2.3.5 or later".
 * To check a region's catalog yourself (the authority; it is what a deployment resolves against):
 *     aws greengrassv2 list-component-versions \
 *       --arn arn:aws:greengrass:<region>:aws:components:aws.greengrass.Nucleus
 * and add a version here only after seeing it there (README, "Greengrass versions").
 */
export interface AwsComponent {
    name: string;
    /** What a stack gets when it does not choose. */
    defaultVersion: string;
    /** Why older versions are refused. */
    minimum: { version: string; reason: string };
    published: readonly string[];
}

export const NUCLEUS: AwsComponent = {
    name: "aws.greengrass.Nucleus",
    defaultVersion: "2.16.1",
    minimum: {
        version: "2.5.0",
        reason: "the core policy and token-exchange role follow AWS's minimal policies for nucleus v2.5.0 and later (greengrass:ListThingGroupsForCoreDevice, no iot:DescribeCertificate)",
    },
    published: ["2.11.2", "2.11.3", "2.12.0", "2.12.1", "2.12.2", "2.12.3", "2.12.4", "2.12.5", "2.12.6", "2.15.1", "2.16.0", "2.16.1", "2.17.0", "2.18.0"],
};

export const LOG_MANAGER: AwsComponent = {
    name: "aws.greengrass.LogManager",
    defaultVersion: "2.3.11",
    minimum: { version: "2.3.5", reason: "AWS recommends Log Manager v2.3.5 or later (it cuts configuration writes on the device)" },
    published: ["2.3.5", "2.3.11"],
};

/** Compares dotted numeric versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

/** Why a version of an AWS component is not accepted, or undefined when it is. */
export function versionProblem(component: AwsComponent, version: string): string | undefined {
    if (compareVersions(version, component.minimum.version) < 0) {
        return `${component.minimum.version} or later: ${component.minimum.reason}`;
    }
    if (!component.published.includes(version)) {
        return `a version AWS publishes (known here: ${component.published.join(", ")}; see config/awsComponents.ts for how to check and add one)`;
    }
    return undefined;
}
