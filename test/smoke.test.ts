import { runStack } from "./support/program";
describe("smoke", () => {
    it("runs", async () => {
        for (const s of ["dev", "kr"]) {
            const run = await runStack(s);
            console.log(s, run.resources.length, run.outputs.ruleNames, run.outputs.mskBootstrapServers, run.outputs.mskSecretName);
        }
    });
});
