/**
 * Quotas that count across the stacks sharing an AWS account and region: each stack's share, and the check that
 * their sum stays within AWS's quota (config/awsQuotas.ts). Stacks share an account and region when they name the
 * same region and either list a common `aws:allowedAccountIds` account or, listing none, name the same
 * `operations.regionSettingsOwner` (the project's own declaration of "these stacks are one account and region").
 */
import { AWS_QUOTAS, cite } from "./awsQuotas";
import { ConfigError } from "./errors";

export interface AccountShare {
    stack: string;
    region: string;
    accounts?: string[];
    owner: string;
    /**
     * Topic rules the stack creates: one per route, the certificate-confirmation rule, and in the oemCa identity
     * mode one just-in-time-registration rule per CA certificate (components/provisioning/oemCaRegistration.ts).
     * test/quotaHeadroom.test.ts holds this count to the topic rules each stack's plan creates.
     */
    rules: number;
}

interface ShareInputs {
    stack: string;
    region: string;
    allowedAccountIds?: string[];
    operations: { regionSettingsOwner: string };
    routing?: { routes: unknown[] };
    provisioning: { identity: { oemCa?: { caCertificates: unknown[] } } };
}

/** What a stack's config puts on its account's quotas. */
export function accountShare(c: ShareInputs): AccountShare {
    const jitrRules = c.provisioning.identity.oemCa?.caCertificates.length ?? 0;
    return { stack: c.stack, region: c.region, accounts: c.allowedAccountIds, owner: c.operations.regionSettingsOwner, rules: (c.routing?.routes.length ?? 0) + 1 + jitrRules };
}

export function sameAccountAndRegion(a: AccountShare, b: AccountShare): boolean {
    if (a.region !== b.region) return false;
    if (a.accounts?.length && b.accounts?.length) return a.accounts.some((x) => b.accounts!.includes(x));
    return a.owner === b.owner;
}

/** Throws when the stacks sharing `self`'s account and region would create more topic rules than AWS allows. */
export function checkRulesPerAccount(project: string, self: AccountShare, others: AccountShare[], limit: number = AWS_QUOTAS.rulesPerAccount.value): void {
    const sharing = others.filter((o) => o.stack !== self.stack && sameAccountAndRegion(self, o));
    const total = self.rules + sharing.reduce((n, o) => n + o.rules, 0);
    if (total <= limit) return;
    const with_ = sharing.length ? ` with ${sharing.map((o) => `Pulumi.${o.stack}.yaml (${o.rules})`).join(", ")} in the same account and region (${self.region})` : "";
    throw new ConfigError(`${project}:routing.routes`, `${self.rules} topic rules`,
        `Pulumi.${self.stack}.yaml makes ${self.rules} topic rules${with_}: ${total} in all, over ${cite("rulesPerAccount")}; request an increase before adding routes, or move a stack to another account`,
        `Pulumi.${self.stack}.yaml`);
}
