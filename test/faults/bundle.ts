// The suite starts its pipeline processes many times: each is bundled once with esbuild (the build's own
// tool) so a process starts in a fraction of the time tsx needs to compile the runtime file by file.
// Packages stay imports from node_modules, which is why the bundle is written inside it.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "../..");
const OUT = join(ROOT, "node_modules/.cache/mallard-faults");

/** Bundle `entry` (relative to the repository) and return the path of the bundle. */
export async function bundle(entry: string): Promise<string> {
  await mkdir(OUT, { recursive: true });
  const outfile = join(OUT, `${entry.replace(/[/.]/g, "_")}.mjs`);
  await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // CommonJS dependencies in an ESM bundle call require().
    banner: { js: 'import { createRequire as __faultsRequire } from "node:module"; const require = __faultsRequire(import.meta.url);' },
    logLevel: "error",
  });
  return outfile;
}

export const PROJECT_ROOT = ROOT;
