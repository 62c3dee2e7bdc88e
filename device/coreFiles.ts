/**
 * Files under a core's rootPath: the fleet-provisioning plugin's defaults (aws-greengrass-fleet-provisioning-by-claim
 * v1.2.2, src/main/java/com/aws/greengrass/FleetProvisioningByClaimPlugin.java L80-81: DEFAULT_CERT_FILE,
 * DEFAULT_KEY_FILE), and what edge-config makes for device keys (the key at csrPrivateKeyPath, which the plugin copies
 * to privKey.key). Its own module: the edge config, the core scripts and core rotation all name these files.
 */
export const CORE_FILES = {
    privateKey: "privKey.key", certificate: "thingCert.crt", csr: "core.csr.pem", csrPrivateKey: "core.key.pem", rootCa: "AmazonRootCA1.pem", registration: "registration.csv",
} as const;
