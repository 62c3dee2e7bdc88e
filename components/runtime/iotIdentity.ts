/** Small helpers both Lambdas share (each is bundled with its own copy by esbuild). */
import { ListThingPrincipalsCommand, ListThingPrincipalsCommandOutput } from "@aws-sdk/client-iot";

/** A certificate id (64 hex digits). */
export const CERTIFICATE_ID = /^[0-9a-f]{64}$/;

/**
 * The id in a certificate ARN. ListThingPrincipals answers with principal ARNs, certificates as
 * `arn:aws:iot:<region>:<account>:cert/<certificateId>` (AWS IoT API reference, ListThingPrincipals
 * and AttachThingPrincipal); anything else (a Cognito identity) has none.
 */
export function certificateIdOf(arn: string): string | undefined {
    return /:cert\/([0-9a-f]{64})$/.exec(arn)?.[1];
}

/**
 * The ARN of a certificate in the region and account of another IoT ARN (the event's template ARN,
 * a Thing's principal): `arn:<partition>:iot:<region>:<account>:cert/<certificateId>`.
 */
export function certificateArn(sameAccountArn: string, certificateId: string): string | undefined {
    const m = /^(arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}):/.exec(sameAccountArn);
    return m ? `${m[1]}:cert/${certificateId}` : undefined;
}

/** Every certificate ARN attached to a Thing, all pages; `send` may add a deadline. */
export async function thingCertificateArns(send: (command: ListThingPrincipalsCommand) => Promise<ListThingPrincipalsCommandOutput>, thingName: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
        const page = await send(new ListThingPrincipalsCommand({ thingName, nextToken }));
        arns.push(...(page.principals ?? []).filter((p) => certificateIdOf(p) !== undefined));
        nextToken = page.nextToken;
    } while (nextToken);
    return arns;
}

/** The SDK error's name (`ResourceNotFoundException`, ...), for branching and for logs. */
export function errorName(err: unknown): string {
    return err instanceof Error ? err.name : "UnknownError";
}
