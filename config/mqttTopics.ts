/**
 * What AWS IoT accepts as a topic filter and how deep a topic may be, for the topics a stack's config
 * names: the FROM of a route's rule SQL and the root of every device's own topics.
 */

import { AWS_QUOTAS } from "./awsQuotas";

/**
 * AWS IoT Core quota "Maximum number of slashes in topic and topic filter" (seven; Basic Ingest's
 * `$aws/rules/<rule>/` prefix not counted; not adjustable): one row of the quota table, config/awsQuotas.ts.
 */
export const MAX_TOPIC_SLASHES: number = AWS_QUOTAS.topicSlashes.value;

/** Levels a topic may have: one more than its slashes. */
export const MAX_TOPIC_LEVELS = MAX_TOPIC_SLASHES + 1;

/**
 * Why `filter` is not a topic filter AWS IoT takes, or undefined. Wildcards (AWS IoT developer guide,
 * "MQTT topics", Topic filters: https://docs.aws.amazon.com/iot/latest/developerguide/topics.html#topicfilters,
 * after MQTT 3.1.1 section 4.7.1): `#` matches all lower levels and "must be the last character in the
 * topic filter", on a level of its own; `+` matches exactly one level and stands alone on it.
 */
export function topicFilterProblem(filter: string): string | undefined {
    if (filter.length === 0) return "the topic filter is empty";
    const levels = filter.split("/");
    const hash = levels.findIndex((l) => l.includes("#"));
    if (hash >= 0 && (levels[hash] !== "#" || hash !== levels.length - 1)) {
        return `'#' in '${filter}' is not the whole last level: '#' matches every level below it and must stand alone at the end ('a/b/#')`;
    }
    const plus = levels.find((l) => l.includes("+") && l !== "+");
    if (plus !== undefined) return `'+' in '${filter}' shares a level ('${plus}'): '+' matches one whole level and must stand alone ('a/+/c')`;
    const slashes = levels.length - 1;
    if (slashes > MAX_TOPIC_SLASHES) return `'${filter}' has ${slashes} '/': AWS IoT allows at most ${MAX_TOPIC_SLASHES} in a topic filter`;
    return undefined;
}

/**
 * Why a device topic root is too deep, or undefined: a Thing's own topics are
 * `<deviceRoot>/<thingName>/<topic>`, at least two levels below the root, so the root may have at most
 * MAX_TOPIC_LEVELS - 2 levels.
 */
export function deviceRootProblem(deviceRoot: string): string | undefined {
    const levels = deviceRoot.split("/").length;
    const max = MAX_TOPIC_LEVELS - 2;
    if (levels <= max) return undefined;
    return `at most ${max} levels: a device's own topics are <deviceRoot>/<thingName>/<topic>, and AWS IoT allows at most ${MAX_TOPIC_SLASHES} '/' in a topic (this root's topics would have ${levels + 1} or more)`;
}
