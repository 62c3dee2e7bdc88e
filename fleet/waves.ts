/**
 * `--waves "dev;kr,jp;rest"`: waves separated by `;`, stacks inside a wave by `,`; `rest` is every
 * stack of the selection not named in another wave. Without `--waves`, one wave of the selection.
 */
export const REST = "rest";

export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/**
 * @param known the stacks that have a stack file
 * @param selected `--stacks` (default: every known stack)
 */
export function planWaves(known: string[], spec: string | undefined, selected: string[] = known): string[][] {
    const unknown = (names: string[], flag: string) => {
        const bad = names.filter((s) => !known.includes(s));
        if (bad.length) throw new UsageError(`${flag}: ${bad.join(", ")} ${bad.length === 1 ? "has" : "have"} no Pulumi.<stack>.yaml (stacks: ${known.join(", ")})`);
    };
    unknown(selected, "--stacks");
    if (new Set(selected).size !== selected.length) throw new UsageError("--stacks names a stack twice");
    if (spec === undefined) return selected.length ? [[...selected]] : [];
    const waves = spec.split(";").map((w) => w.split(",").map((s) => s.trim()).filter(Boolean));
    if (waves.some((w) => w.length === 0)) throw new UsageError(`--waves "${spec}": an empty wave (waves are separated by ";", stacks by ",")`);
    const named = waves.flat().filter((s) => s !== REST);
    unknown(named, "--waves");
    const twice = named.find((s, i) => named.indexOf(s) !== i);
    if (twice) throw new UsageError(`--waves "${spec}": ${twice} is in more than one wave`);
    const rests = waves.filter((w) => w.includes(REST));
    if (rests.length > 1 || rests.some((w) => w.length > 1)) throw new UsageError(`--waves "${spec}": "${REST}" is a wave of its own, once`);
    const outside = named.filter((s) => !selected.includes(s));
    if (outside.length) throw new UsageError(`--waves names ${outside.join(", ")}, which --stacks leaves out`);
    const rest = selected.filter((s) => !named.includes(s));
    if (rests.length === 0 && rest.length) {
        throw new UsageError(`--waves "${spec}" leaves out ${rest.join(", ")}: name ${rest.length === 1 ? "it" : "them"}, or end with ";${REST}"`);
    }
    return waves.map((w) => (w[0] === REST ? rest : w)).filter((w) => w.length > 0);
}
