import { STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";

/** The one STS mock of the test run (aws-sdk-client-mock stubs the class once per process). */
export const sts = mockClient(STSClient);
