/** A generated section of a Markdown page (README.md or docs/*.md): whatever lies between a start and an end marker, markers included. */
export interface Markers { start: string; end: string }

export function markedSection(readme: string, m: Markers): string {
    const a = readme.indexOf(m.start);
    const b = readme.indexOf(m.end);
    if (a < 0 || b < a) throw new Error(`the page has no ${m.start} ... ${m.end} section`);
    return readme.slice(a, b + m.end.length);
}

export function replaceMarkedSection(readme: string, m: Markers, section: string): string {
    return readme.replace(markedSection(readme, m), () => section);
}
