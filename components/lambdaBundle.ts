import * as path from "path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";

/**
 * Bundles a TypeScript Lambda handler into one CommonJS file for the Node.js 22 runtime. The AWS
 * SDK v3 stays external: the runtime provides it, so it is not shipped. Deterministic output, so
 * an unchanged handler never shows as a change.
 */
export function bundleHandler(entry: string): string {
    const result = esbuild.buildSync({
        entryPoints: [entry],
        // Resolved from the project, never from the working directory (the plan runs the program in the stack
        // file's directory, which a test may already have removed).
        absWorkingDir: path.resolve(__dirname, ".."),
        bundle: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        external: ["@aws-sdk/*"],
        minify: true,
        legalComments: "none",
        write: false,
        logLevel: "silent",
    });
    return result.outputFiles[0].text;
}

export function handlerArchive(entry: string): pulumi.asset.AssetArchive {
    return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleHandler(entry)) });
}
