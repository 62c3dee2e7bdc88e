import { IoTClient } from "@aws-sdk/client-iot";
import { mockClient } from "aws-sdk-client-mock";

/**
 * The one AWS IoT SDK mock of the test run: aws-sdk-client-mock stubs IoTClient.prototype.send, and a
 * second mockClient(IoTClient) in another file would silently take the first one's place.
 */
export const iot = mockClient(IoTClient);
