// The suite starts its pipeline processes many times: each is bundled once with esbuild (the build's own
// tool) so a process starts in a fraction of the time tsx needs to compile the runtime file by file.
// Packages stay imports from node_modules, which is why the bundle is written inside it.

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { ENCODER_WORKER } from "../../runtime/engine/parquet-encoder/worker-entry.ts";

const ROOT = join(import.meta.dirname, "../..");
const OUT = join(ROOT, "node_modules/.cache/mallard-faults");

/**
 * Bundle `entry` (relative to the repository) and return the path of the bundle. Split into chunks at
 * the runtime's own dynamic imports: one file would hoist every package any lazily loaded module uses
 * (the Azure SDK, exceljs, mysql2) into static imports, and each process would load them all at start.
 */
export async function bundle(entry: string): Promise<string> {
  const outdir = join(OUT, entry.replace(/[/.]/g, "_"));
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    // The Parquet encoder's worker thread starts from its own entry, beside the bundle's (as in dist/).
    entryPoints: { main: entry, [ENCODER_WORKER.name]: ENCODER_WORKER.source },
    outdir,
    splitting: true,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // CommonJS dependencies in an ESM bundle call require().
    banner: { js: 'import { createRequire as __faultsRequire } from "node:module"; const require = __faultsRequire(import.meta.url);' },
    logLevel: "error",
  });
  return join(outdir, "main.mjs");
}

export const PROJECT_ROOT = ROOT;
