/**
 * The ledger: the calls each runtime actor makes, as data, each with the ARN and context AWS authorizes it on and
 * the source it comes from. `test/support/ledger.ts` simulates every call against the plan's actual policies.
 *
 * ARN templates use `${Partition}`, `${Region}`, `${Account}`, `${NamePrefix}` and the plan's values
 * (`test/support/ledger.ts`, `ledgerVars`): every string stack output by its name (`${registryTableName}`,
 * `${claimClientIdPrefix}`, `${edgeCoreThingNamePrefix}`...), and `${ThingName}`, `${OtherThingName}`,
 * `${CoreThingName}`, `${OtherCoreThingName}`, `${CertificateId}`, `${ThingNamePrefix}`, `${MskSecretArn}`,
 * `${SecretKeyArn}`, `${StackKeyArn}`, `${DestinationArn}`, `${ArtifactBucket}`, `${LogDate}`.
 */

/**
 * Who makes the call: a role, or an MQTT connection governed by an IoT policy (plan resource-name suffixes), or an
 * AWS service principal (`iot.amazonaws.com`) that only the resource's own policy authorizes.
 */
export type LedgerPrincipal =
    | { role: string }
    | { iotPolicy: string }
    | { service: string }
    /** An IoT policy a provisioning template creates per device: the template (name suffix), its resource, the parameters (templates allowed). */
    | { templatePolicy: { template: string; resource: string; parameters: Record<string, string> } };

/** The MQTT connection an IoT policy is evaluated for (AWS IoT resolves its policy variables from it). */
export interface MqttConnection {
    clientId: string;
    /** The Thing the certificate is attached to (none for the claim certificate). */
    attachedThing?: string;
}

export interface LedgerCall {
    action: string;
    /** ARN template. */
    resource: string;
    /** Request context keys (templates allowed in values), e.g. `kms:ViaService`. */
    context?: Record<string, string | string[]>;
    /** IoT policies: the connection the call is made on. */
    connection?: MqttConnection;
    /** IAM policy variables the session carries (e.g. `credentials-iot:ThingName` for the IoT credentials provider). */
    sessionVariables?: Record<string, string>;
    /** AWS doc URL, or `repo@tag:path:line`, or `components/...:line` for our own handler (each `new XxxCommand`). */
    source: string;
    /** Why it must be refused (must-deny entries). */
    why?: string;
    /** Only on stacks whose template values match (`true`: the value exists), e.g. `{ HookMode: "registry" }`. */
    when?: Record<string, string | true>;
    /** A must-deny call AWS allows today, and the issue that closes it: the test fails once it is denied. */
    knownGap?: string;
}

export interface ActorLedger {
    actor: string;
    principal: LedgerPrincipal;
    /** Lambda functions (plan name suffixes) that run as this principal. */
    lambdas?: string[];
    /** Topic rules (plan name suffixes) whose actions use this principal. */
    rules?: string[];
    /** AWS-managed policies the role is expected to carry, with the AWS page their document comes from. */
    managedPolicies?: string[];
    /** The calls the actor makes: each must be allowed. An actor whose principal a stack lacks is skipped there. */
    calls: LedgerCall[];
    /** Calls that must be refused (another vehicle's topics, another stack's table...). */
    mustDeny: LedgerCall[];
    /** What this ledger does not cover, and who does. */
    notes?: string;
}
