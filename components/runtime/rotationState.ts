/**
 * The rotation state table, one item per Thing, written by the pre-provisioning hook and the
 * rotation confirm step, read and cleared by the sweep:
 * - `unconfirmedCertificateArn` + `confirmBy`: a certificate the rotation template issued that the
 *   vehicle has not yet confirmed (connected with it and published to the confirmation rule); the
 *   sweep retires it after `confirmBy`. Written by the hook, with a condition that nothing is pending.
 * - `retiringCertificateArns` + `retireAfter`: certificates replaced by a confirmed one (or by a
 *   re-registration of the same key), retired by the sweep after the grace period.
 * - `keeperCertificateArn`: the certificate that replaced them; never retired by that item.
 * While either pair is present the Thing may not rotate again.
 */
export const ROTATION = {
    thingName: "thingName",
    keeper: "keeperCertificateArn",
    retiring: "retiringCertificateArns",
    retireAfter: "retireAfter",
    unconfirmed: "unconfirmedCertificateArn",
    confirmBy: "confirmBy",
    /**
     * Certificates the sweep has claimed for retirement (a tombstone, gone with the item): a confirmation's write is
     * conditioned against it, so a late confirmation and the sweep never both win (both certificates retired).
     */
    retired: "retiredCertificateArns",
    /**
     * Claimed certificates whose deactivation has not yet been seen to succeed. The item is not deleted while any is
     * listed, and every sweep that reads the item deactivates them again (idempotent), so a sweep that dies or is
     * throttled between its claim and AWS's answer never leaves the old certificate ACTIVE with nothing recording it.
     */
    deactivating: "deactivatingCertificateArns",
} as const;

/** Attributes the hook may write in the rotation table (its IAM condition lists exactly these). */
export const ROTATION_HOOK_ATTRIBUTES = [ROTATION.thingName, ROTATION.unconfirmed, ROTATION.confirmBy, ROTATION.keeper, ROTATION.retiring, ROTATION.retireAfter] as const;

/** ISO time `hours` after `now`. */
export function hoursAfter(now: Date, hours: number): string {
    return new Date(now.getTime() + hours * 3600_000).toISOString();
}
