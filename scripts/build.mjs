#!/usr/bin/env node
// `npm run build`, and `prepare` (so `npm ci` and `npm pack` build): dist/ holds the `mallard` command
// (dist/bin.js) and the "mallard" library a pipeline declaration imports (dist/index.js), as ESM bundled
// by esbuild with code splitting, and the library's .d.ts from tsc (dist/types/). Why esbuild bundles and
// which packages stay outside: docs/decisions.md, "A compiled package".
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const require = createRequire(import.meta.url);

/**
 * Packages bundled into dist/: Mallard's own internals on the start path, whose objects never cross the
 * public API. Every other package stays an import resolved from node_modules at run time: the DuckDB API
 * (a transform receives its connection, so a user's `@duckdb/node-api` must be the same copy), native or
 * WebAssembly packages (DuckDB's binding, PGlite), esbuild and tsx, and the heavy SDKs that load lazily.
 */
const BUNDLED = ["commander", "zod", "yaml", "cron-parser", "p-limit"];

/**
 * CommonJS packages loaded with require() rather than import: @duckdb/node-api's index re-exports ~180
 * files, and an ESM import of it runs Node's CommonJS export lexer over every one (measured: 550 ms of CPU
 * against 220 ms for require). A user's own import of the package still gets the same module instance.
 */
const REQUIRED = ["@duckdb/node-api"];

/** CommonJS dependencies in an ESM bundle call require() and read __dirname: give them both. */
const BANNER = [
  'import { createRequire as __mallardCreateRequire } from "node:module";',
  "const require = __mallardCreateRequire(import.meta.url);",
].join("\n");

/** Bare imports stay external unless their package is in BUNDLED; those in REQUIRED become require() calls. */
const externalPackages = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || args.namespace === "required") return { path: args.path, external: true };
      if (REQUIRED.includes(args.path)) return { path: args.path, namespace: "required" };
      const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
      // A bundled package's own dependencies (p-limit's yocto-queue) are bundled with it: they are not
      // Mallard's dependencies, so an installed mallard cannot count on finding them.
      const fromBundled = BUNDLED.some((pkg) => args.importer.includes(`/node_modules/${pkg}/`));
      return BUNDLED.includes(name) || fromBundled ? undefined : { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: "required" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

/**
 * zod's namespace export carries ~40 translations of its messages (200 KB minified, parsed on every start);
 * Mallard writes its own messages and configures none, so the bundle keeps English, zod's default, only.
 */
const englishZodOnly = {
  name: "english-zod-only",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes("/node_modules/zod/") ? { path: join(args.resolveDir, "locales-en-only.js"), namespace: "zod-locales" } : undefined);
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: join(args.path, "..", "..", "locales"),
      loader: "js",
    }));
  },
};

/**
 * The build's identity, from every Mallard source file that goes into it: what the compiled package keys
 * its cache of SQL checks on (runtime/config/sql-check-cache.ts), so a new build checks all SQL afresh.
 */
async function buildId() {
  const hash = createHash("sha256");
  const files = (await readdir(join(root, "runtime"), { recursive: true })).filter((f) => f.endsWith(".ts")).sort();
  for (const file of files) hash.update(`${file}\0`).update(await readFile(join(root, "runtime", file))).update("\0");
  return hash.digest("hex").slice(0, 32);
}

const out = join(root, `dist.building-${process.pid}`);
await rm(out, { recursive: true, force: true });
try {
  const result = await build({
    absWorkingDir: root,
    // The Parquet encoder runs in a worker thread started from its own file (ENCODER_WORKER in
    // runtime/engine/parquet-encoder/worker-entry.ts names it; this script cannot import TypeScript).
    entryPoints: { bin: "runtime/cli/bin.ts", index: "runtime/declare/index.ts", "parquet-encoder-worker": "runtime/engine/parquet-encoder/worker.ts" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: out,
    chunkNames: "chunks/[name]-[hash]",
    banner: { js: BANNER },
    plugins: [englishZodOnly, externalPackages],
    define: { MALLARD_BUILD_ID: JSON.stringify(await buildId()) },
    sourcemap: "linked",
    sourcesContent: false,
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  await writeFile(join(out, "meta.json"), JSON.stringify(result.metafile));

  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(out, "types")], {
    cwd: root,
    stdio: "inherit",
  });
  if (tsc.status !== 0) throw new Error("tsc could not write the declarations (above)");

  // Swap the finished build in, so a reader never sees half of one.
  await mkdir(out, { recursive: true });
  await rm(join(root, "dist"), { recursive: true, force: true });
  await rename(out, join(root, "dist"));
  console.log(`built ${relative(process.cwd(), join(root, "dist")) || "dist"}/`);
} catch (error) {
  await rm(out, { recursive: true, force: true });
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
