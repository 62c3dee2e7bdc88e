/** The topic (after the rule name) a vehicle confirms its new certificate on: the confirmation rule's FROM. */
export const CONFIRM_TOPIC = "certificates/confirm";
