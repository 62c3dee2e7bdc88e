/**
 * A minimal model of AWS IoT's registry and of fleet provisioning, for the attack suite. It is
 * deliberately not the broker double (test/support/awsIotDouble.ts) nor the fake clients the
 * handlers are unit-tested with: it keeps certificates (status, creation date, Things), Things
 * (principals) and the provisioning flow as AWS IoT's documentation states them:
 * - CreateCertificateFromCsr issues a certificate for the CSR's public key, PENDING_ACTIVATION until a
 *   RegisterThing with it succeeds (developer guide, "Device provisioning MQTT API", CreateCertificateFromCsr).
 * - RegisterThing calls the pre-provisioning hook with `{claimCertificateId, certificateId, certificatePem,
 *   templateArn, clientId, parameters}` (developer guide, "Pre-provisioning hooks"); `claimCertificateId` is
 *   the certificate of the asking connection; on `allowProvisioning` the template's Thing is created if
 *   missing, the certificate attached and activated (the templates here say `Status: ACTIVE`).
 * - A certificate acts as a Thing only while ACTIVE and attached to it (the device policy's
 *   `iot:Connection.Thing.IsAttached` condition).
 * - ListThingPrincipals / DescribeCertificate / UpdateCertificate / DetachThingPrincipal / DescribeThing
 *   answer in the API reference's shapes (principals as certificate ARNs, ResourceNotFoundException).
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
    ListAuditTasksCommand, DescribeCertificateCommand, DescribeThingCommand, DetachThingPrincipalCommand, ListThingPrincipalsCommand, UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { TestCa } from "./x509";

export const REGION = "ap-northeast-2";
export const ACCOUNT = "123456789012";
export const certArn = (id: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${id}`;
const templateArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:provisioningtemplate/${name}`;

export type Status = "PENDING_ACTIVATION" | "ACTIVE" | "INACTIVE";
interface Certificate { id: string; pem: string; status: Status; created: Date; things: Set<string> }

const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { name: "ResourceNotFoundException" });

export class FleetModel {
    readonly certificates = new Map<string, Certificate>();
    readonly things = new Map<string, Set<string>>();
    private tick = 0;

    private constructor(private readonly ca: TestCa, private readonly clock: () => Date) {}

    static async create(clock: () => Date): Promise<FleetModel> {
        return new FleetModel(await TestCa.create("CN=fleet model CA"), clock);
    }

    /** CreateCertificateFromCsr: a certificate for the CSR's key (its signature checked), PENDING_ACTIVATION. */
    async createCertificateFromCsr(csrPem: string): Promise<string> {
        const csr = new x509.Pkcs10CertificateRequest(csrPem);
        if (!(await csr.verify())) throw Object.assign(new Error("the CSR's signature does not verify"), { name: "InvalidRequestException" });
        const { certPem, certificateId } = await this.ca.sign(csr.publicKey);
        // Creation dates strictly increase: the rotation Lambdas order certificates by them.
        const created = new Date(this.clock().getTime() + this.tick++);
        this.certificates.set(certificateId, { id: certificateId, pem: certPem, status: "PENDING_ACTIVATION", created, things: new Set() });
        return certificateId;
    }

    pem(id: string): string {
        return this.certificates.get(id)!.pem;
    }

    /**
     * RegisterThing over the connection of certificate `asker` with client id `clientId`: the hook
     * decides; on allow the Thing (`thingName`) exists afterwards with the certificate attached and ACTIVE.
     */
    async registerThing(hook: (e: unknown) => Promise<{ allowProvisioning: boolean }>, r: { template: string; certificateId: string; asker: string; clientId: string; parameters: Record<string, string>; thingName: string }): Promise<boolean> {
        const cert = this.certificates.get(r.certificateId);
        if (!cert) throw notFound("certificate");
        const answer = await hook({
            claimCertificateId: r.asker, certificateId: r.certificateId, certificatePem: cert.pem,
            templateArn: templateArn(r.template), clientId: r.clientId, parameters: r.parameters,
        });
        if (!answer.allowProvisioning) return false;
        if (!this.things.has(r.thingName)) this.things.set(r.thingName, new Set());
        this.attach(r.thingName, r.certificateId);
        cert.status = "ACTIVE";
        return true;
    }

    /** A certificate attached to a Thing outside provisioning (the claim certificate has none). */
    attach(thingName: string, certificateId: string): void {
        this.things.get(thingName)!.add(certificateId);
        this.certificates.get(certificateId)!.things.add(thingName);
    }

    /** Whether a connection with this certificate may act as the Thing (device policy: ACTIVE and attached). */
    canActAs(certificateId: string, thingName: string): boolean {
        const c = this.certificates.get(certificateId);
        return c?.status === "ACTIVE" && c.things.has(thingName);
    }

    /** The AWS SDK v3 `send` the handlers and the operator commands call. */
    readonly send = async (command: unknown): Promise<any> => {
        const input = (command as { input: any }).input;
        if (command instanceof ListThingPrincipalsCommand) {
            const principals = this.things.get(input.thingName);
            if (!principals) throw notFound("thing");
            return { principals: [...principals].map(certArn) };
        }
        if (command instanceof DescribeThingCommand) {
            if (!this.things.has(input.thingName)) throw notFound("thing");
            return { thingName: input.thingName };
        }
        if (command instanceof DescribeCertificateCommand) {
            const c = this.certificates.get(input.certificateId);
            if (!c) throw notFound("certificate");
            return { certificateDescription: { certificateId: c.id, certificatePem: c.pem, status: c.status, creationDate: c.created } };
        }
        if (command instanceof UpdateCertificateCommand) {
            const c = this.certificates.get(input.certificateId);
            if (!c) throw notFound("certificate");
            c.status = input.newStatus;
            return {};
        }
        if (command instanceof DetachThingPrincipalCommand) {
            const id = /cert\/([0-9a-f]{64})$/.exec(input.principal)?.[1] ?? "";
            const principals = this.things.get(input.thingName);
            if (!principals) throw notFound("thing");
            principals.delete(id);
            this.certificates.get(id)?.things.delete(input.thingName);
            return {};
        }
        if (command instanceof ListAuditTasksCommand) return { tasks: [] }; // no Device Defender audit in this model
        throw new Error(`the fleet model does not answer ${(command as object).constructor.name}`);
    };
}
