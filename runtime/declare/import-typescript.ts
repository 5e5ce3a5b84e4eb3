// Imports a user's TypeScript module (a pipeline declaration and the files it imports) into the compiled
// CLI, which has no TypeScript loader: esbuild compiles the module and its relative imports into one ESM
// file, written beside the original (so packages resolve as from it), imported once and deleted. Packages
// stay package imports, and "mallard" is always the copy that is running, so the declaration's stages and
// errors are this runtime's own. The compiled code is cached under node_modules/.cache/mallard, keyed by
// the contents of every file that went in, so an unchanged declaration never starts esbuild.
// Run from source (tests, Pulumi, `npm run dev`) a loader (tsx) is already registered and a plain import does.

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Loader, Plugin } from "esbuild";

const RUNNING_FROM_SOURCE = import.meta.url.endsWith(".ts");
const TYPESCRIPT = new Set([".ts", ".mts", ".cts", ".tsx"]);
const ESBUILD = "esbuild";

export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (RUNNING_FROM_SOURCE || !TYPESCRIPT.has(extname(file).toLowerCase())) {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }
  if (!(await stat(file).then((s) => s.isFile(), () => false))) {
    // The error Node gives for a missing module, so callers handle both paths alike.
    throw Object.assign(new Error(`Cannot find module '${file}'`), { code: "ERR_MODULE_NOT_FOUND" });
  }
  const code = await compiled(file);
  // A hidden sibling, unique per call: `import.meta.dirname` and package resolution stay the original's.
  const sibling = join(dirname(file), `.${basename(file)}.mallard-${process.pid}-${randomBytes(4).toString("hex")}.mjs`);
  await writeFile(sibling, code);
  try {
    return (await import(pathToFileURL(sibling).href)) as Record<string, unknown>;
  } finally {
    await rm(sibling, { force: true });
  }
}

/** A compiled module and each input file's SHA-256 (as read by the compile). */
interface CacheEntry {
  inputs: Record<string, string>;
  code: string;
}

async function compiled(file: string): Promise<string> {
  const mallard = import.meta.resolve("mallard");
  const cacheFile = await cachePath(file, mallard);
  const cached = cacheFile ? await readCache(cacheFile) : undefined;
  if (cached !== undefined) return cached;

  const inputs: Record<string, string> = {};
  const code = await compile(file, mallard, inputs);
  if (cacheFile) {
    const entry: CacheEntry = { inputs, code };
    const temp = `${cacheFile}.${process.pid}.tmp`;
    // The cache only saves time: a folder that cannot be written is not an error.
    await mkdir(dirname(cacheFile), { recursive: true })
      .then(() => writeFile(temp, JSON.stringify(entry)))
      .then(() => rename(temp, cacheFile))
      .catch(() => rm(temp, { force: true }));
  }
  return code;
}

/** node_modules/.cache/mallard/declarations/<hash>.json in the nearest node_modules above the file. */
async function cachePath(file: string, mallard: string): Promise<string | undefined> {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (await stat(join(dir, "node_modules")).then((s) => s.isDirectory(), () => false)) {
      // This module's own URL names the build (dist chunk names carry a content hash): a new Mallard compiles afresh.
      const key = createHash("sha256").update(`${file}\0${mallard}\0${import.meta.url}`).digest("hex");
      return join(dir, "node_modules", ".cache", "mallard", "declarations", `${key.slice(0, 24)}.json`);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function readCache(cacheFile: string): Promise<string | undefined> {
  try {
    const entry = JSON.parse(await readFile(cacheFile, "utf8")) as CacheEntry;
    for (const [path, hash] of Object.entries(entry.inputs)) {
      if (sha256(await readFile(path)) !== hash) return undefined;
    }
    return entry.code;
  } catch {
    return undefined; // missing, unreadable or an input gone: compile again
  }
}

async function compile(file: string, mallard: string, inputs: Record<string, string>): Promise<string> {
  // Named through a variable so that bundlers (the Functions bundle imports this loader, never calls it
  // for TypeScript) leave esbuild out.
  const { build } = (await import(ESBUILD)) as typeof import("esbuild");
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      packages: "external",
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "inline",
      logLevel: "silent",
      define: Object.fromEntries(Object.entries(META).map(([field, name]) => [`import.meta.${field}`, name])),
      plugins: [runningMallard(mallard), readInputs(inputs)],
    });
    return result.outputFiles[0].text;
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors?.[0];
    if (!first) throw error;
    const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: ` : "";
    throw new Error(`${where}${first.text}`);
  }
}

/** "mallard" resolves to the package this code is part of (its own exports), never another installed copy. */
function runningMallard(mallard: string): Plugin {
  return {
    name: "running-mallard",
    setup(b) {
      b.onResolve({ filter: /^mallard$/ }, () => ({ path: mallard, external: true }));
    },
  };
}

const META = { url: "__mallard_meta_url", dirname: "__mallard_meta_dirname", filename: "__mallard_meta_filename" };
const LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx", ".json": "json" };

/**
 * Reads every file that goes in, recording its hash for the cache, and gives each its own
 * `import.meta.url`, `dirname` and `filename` (as Vite does for its config), not the bundle's.
 */
function readInputs(inputs: Record<string, string>): Plugin {
  return {
    name: "read-inputs",
    setup(b) {
      b.onLoad({ filter: /\.([cm]?[jt]sx?|json)$/ }, async (args) => {
        const source = await readFile(args.path);
        inputs[args.path] = sha256(source);
        const loader = LOADERS[extname(args.path).toLowerCase()] ?? "js";
        if (loader === "json") return { contents: source, loader };
        const prelude = [
          `const ${META.url} = ${JSON.stringify(pathToFileURL(args.path).href)};`,
          `const ${META.dirname} = ${JSON.stringify(dirname(args.path))};`,
          `const ${META.filename} = ${JSON.stringify(args.path)};`,
        ].join(" ");
        // On the first line, so line numbers in messages and stacks stay the file's own.
        return { contents: `${prelude} ${source.toString("utf8")}`, loader };
      });
    },
  };
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
