/**
 * A stand-in for an AWS SDK v3 client's `send`, with aws-sdk-client-mock's vocabulary (on/resolves/
 * rejects/...Once, commandCalls, calls, reset), for code that takes `Pick<Client, "send">`. Used where
 * another suite already mocks the same client class (sinon cannot wrap a method twice).
 */
type Command = { input: any };
type CommandClass = new (...args: any[]) => Command;
type Answer = (input: any) => Promise<unknown>;

export class FakeClient {
    private readonly answers = new Map<CommandClass, { once: Answer[]; always?: Answer }>();
    private readonly sent: Command[] = [];

    readonly send = (command: Command): Promise<any> => {
        this.sent.push(command);
        const entry = this.answers.get(command.constructor as CommandClass);
        const answer = entry?.once.shift() ?? entry?.always;
        return answer ? answer(command.input) : Promise.resolve(undefined);
    };

    on(command: CommandClass) {
        const entry = this.answers.get(command) ?? { once: [] };
        this.answers.set(command, entry);
        const api = {
            resolves: (v: unknown) => { entry.always = () => Promise.resolve(v); return api; },
            rejects: (e: Error) => { entry.always = () => Promise.reject(e); return api; },
            resolvesOnce: (v: unknown) => { entry.once.push(() => Promise.resolve(v)); return api; },
            rejectsOnce: (e: Error) => { entry.once.push(() => Promise.reject(e)); return api; },
            /** Answers from the command's input. */
            callsFake: (f: (input: any) => Promise<unknown>) => { entry.always = f; return api; },
        };
        return api;
    }

    commandCalls(command: CommandClass): { args: [Command] }[] {
        return this.sent.filter((c) => c instanceof command).map((c) => ({ args: [c] }));
    }

    calls(): Command[] {
        return [...this.sent];
    }

    reset(): void {
        this.answers.clear();
        this.sent.length = 0;
    }
}
