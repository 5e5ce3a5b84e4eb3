// The function bundle: esbuild bundles the runtime's Functions app together with the stack's declaration
// (the entry is generated from it: see declaration.ts) into one ESM file for Node 22; the DuckDB native
// binding for linux-x64 ships beside it as an installed package; host.json, a minimal package.json and the
// SQL files the declared models read complete the zip, and nothing else goes in. So the zip's hash changes
// when, and only when, the runtime, the declaration or one of its SQL files changes. The build fails when
// the binding is missing or the zip is over budget. A build whose inputs all hash as before reuses the zip
// on disk without running esbuild (cache.ts), so a `pulumi preview` with no code change rebuilds nothing.

import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createRequire, isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { build, type Metafile, type Plugin, version as esbuildVersion } from "esbuild";
import { cacheKey, inputHashes, readCached, sha256, writeCached } from "./cache.ts";
import { declaredFiles, entrySource, type DeclaredPipeline } from "./declaration.ts";
import { BundleError } from "./errors.ts";
import { ENCODER_WORKER } from "../../runtime/engine/parquet-encoder/worker-entry.ts";
import { readZip, writeZip, type ZipEntry } from "./zip.ts";

/** The DuckDB binding Flex Consumption (Linux x64, glibc) loads. */
export const NATIVE_BINDING = "@duckdb/node-bindings-linux-x64";

/** Name of the bundled entry inside the zip; package.json `main` points at it. */
export const BUNDLE_ENTRY = "index.mjs";
/** The Parquet encoder's worker thread (runtime/engine/parquet-encoder/worker.ts), an entry beside the app's. */
export const ENCODER_WORKER_ENTRY = `${ENCODER_WORKER.name}.mjs`;

export interface BundleOptions {
  /** The declaration to deploy, as the program loaded it; the bundle runs exactly this pipeline. */
  pipeline: DeclaredPipeline;
  /** Root of the project (package.json, host.json, node_modules, the declaration and its SQL files). @default process.cwd() */
  projectRoot?: string;
  /** The module that registers the functions (exports `startFunctions`), relative to the root. @default "runtime/functions/index.ts" */
  functions?: string;
  /** host.json, relative to the root. @default "host.json" */
  hostJson?: string;
  /** Where the zip is written. @default "<root>/node_modules/.cache/mallard" */
  outDir?: string;
  /** The build fails above this size. @default 120 MB */
  sizeBudgetBytes?: number;
}

export interface Bundle {
  /** Absolute path of the zip. */
  zipPath: string;
  /** SHA-256 of the zip, hex: the deployment's identity. */
  zipHash: string;
  zipBytes: number;
  /** Size of the entry's JavaScript (what a cold start parses first). */
  entryBytes: number;
  /** Size of all JavaScript, lazily loaded chunks included. */
  codeBytes: number;
  /** Paths inside the zip, sorted. */
  files: string[];
  /** Modules esbuild left to be resolved at run time. */
  externals: string[];
  /** The zip was found in the cache (nothing changed since it was built): see cache.ts. */
  cached: boolean;
}

/**
 * Modules that are not bundled: the native binding (shipped beside), the host's own API, optional natives,
 * and optional packages a dependency tries in a try/catch (mysql2 highlights SQL with cardinal if present).
 */
const EXTERNAL = ["@duckdb/node-bindings-*", "@azure/functions-core", "pg-native", "cardinal"];

/** ESM output still runs CommonJS dependencies that call require() or read __dirname; give them both. */
const BANNER = [
  'import { createRequire as __mallardCreateRequire } from "node:module";',
  'import { fileURLToPath as __mallardFileURLToPath } from "node:url";',
  "const require = __mallardCreateRequire(import.meta.url);",
  "const __filename = __mallardFileURLToPath(import.meta.url);",
  'const __dirname = __mallardFileURLToPath(new URL(".", import.meta.url));',
].join("\n");

/** The entry module esbuild starts from; it exists only in memory (see entryPlugin). */
const ENTRY = "mallard:functions-entry";

export async function buildBundle(options: BundleOptions): Promise<Bundle> {
  const root = resolve(options.projectRoot ?? process.cwd());
  const functions = options.functions ?? "runtime/functions/index.ts";
  const outDir = resolve(options.outDir ?? join(root, "node_modules", ".cache", "mallard"));
  const budget = options.sizeBudgetBytes ?? 120 * 1024 * 1024;

  await stat(join(root, functions)).catch(() => {
    throw new BundleError(`the Functions app ${functions} does not exist`);
  });
  const hostJsonPath = join(root, options.hostJson ?? "host.json");
  const hostJson = await readFile(hostJsonPath).catch(() => {
    throw new BundleError(`${relative(root, hostJsonPath)} is missing; the Functions host needs it at the root of the package`);
  });
  const sqlFiles = declaredFiles(options.pipeline, root);
  const sqlData = await Promise.all(sqlFiles.map((path) => readFile(join(root, path)).catch(() => {
    throw new BundleError(`${path} (a model's SQL) cannot be read`);
  })));
  const entry = await entrySource(options.pipeline, root, functions);
  const installed = await nativeBinding(root);
  const key = cacheKey({
    entry,
    functions,
    hostJson: sha256(hostJson),
    sql: sqlFiles.map((path, i) => `${path}:${sha256(sqlData[i])}`),
    binding: installed.portableSignature,
    budget: String(budget),
    esbuild: esbuildVersion,
  });
  const hit = await readCached<Omit<Bundle, "zipPath" | "cached">>(outDir, root, key);
  if (hit) return { ...hit.bundle, zipPath: hit.zipPath, cached: true };

  const binding = await nativeBindingFiles(installed);
  const built = await compile(root, entry, `${functions} with ${options.pipeline.file}`);
  const outputs = built.outputs;
  const code = outputs.find((o) => o.path === BUNDLE_ENTRY)?.data;
  if (!code) throw new BundleError(`esbuild produced no ${BUNDLE_ENTRY}`);
  const externals = externalImports(built.metafile);
  const unshipped = externals.filter((name) => !isBuiltin(name) && !EXTERNAL.some((pattern) => matches(pattern, name)));
  if (unshipped.length) {
    throw new BundleError(`${unshipped.join(", ")} would be imported at run time but is not in the zip; bundle it or ship it`);
  }
  if (!externals.some((name) => name.startsWith(NATIVE_BINDING))) {
    throw new BundleError(`the entry never loads ${NATIVE_BINDING}; DuckDB would not be found at run time`);
  }

  const entries: ZipEntry[] = [
    ...outputs,
    { path: "host.json", data: hostJson },
    { path: "package.json", data: Buffer.from(packageJson(binding.version)) },
    ...binding.files,
    ...sqlFiles.map((path, i) => ({ path, data: sqlData[i] })),
  ];
  const zip = writeZip(entries);
  if (zip.length > budget) {
    throw new BundleError(`the zip is ${mb(zip.length)}, over the budget of ${mb(budget)} (mallard:bundle.sizeBudgetMB)`);
  }
  const zipHash = sha256(zip);
  await mkdir(outDir, { recursive: true });
  const zipPath = join(outDir, `functions-${zipHash.slice(0, 16)}.zip`);
  await writeFile(zipPath, zip);
  const bundle = {
    zipHash,
    zipBytes: zip.length,
    entryBytes: code.length,
    codeBytes: outputs.reduce((sum, o) => sum + o.data.length, 0),
    files: entries.map((e) => e.path).sort(),
    externals,
  };
  await writeCached(outDir, root, key, built.inputs, zipPath, zip.length, bundle);
  return { ...bundle, zipPath, cached: false };
}

interface InstalledBinding {
  dir: string;
  version: string;
  paths: string[];
  /** Its files' paths and sizes: the same install on any machine gives the same one. */
  portableSignature: string;
  /** With modification times, for the in-process cache of its files. */
  signature: string;
}

/** Where the installed linux-x64 binding is, and what it holds, without reading it. */
async function nativeBinding(root: string): Promise<InstalledBinding> {
  const require = createRequire(join(root, "package.json"));
  let manifest: string;
  try {
    manifest = require.resolve(`${NATIVE_BINDING}/package.json`);
  } catch {
    throw new BundleError(
      `${NATIVE_BINDING} is not installed, and Flex Consumption (Linux x64) needs it. ` +
        `npm installs it only on Linux x64; elsewhere run \`npm install --no-save --force ${NATIVE_BINDING}\`.`,
    );
  }
  const dir = dirname(manifest);
  const version = (JSON.parse(await readFile(manifest, "utf8")) as { version: string }).version;
  const paths = await walk(dir);
  const stats = await Promise.all(paths.map((p) => stat(p)));
  return {
    dir,
    version,
    paths,
    portableSignature: `${version}\n${paths.map((p, i) => `${relative(dir, p)}:${stats[i].size}`).join("\n")}`,
    signature: paths.map((p, i) => `${p}:${stats[i].size}:${stats[i].mtimeMs}`).join("\n"),
  };
}

/** The installed binding's files, under node_modules/ as Node resolves them. */
async function nativeBindingFiles({ dir, version, paths, signature }: InstalledBinding): Promise<{ version: string; files: ZipEntry[] }> {
  // The same installed files give the same buffers, which the zip writer has already deflated.
  const known = bindings.get(dir);
  if (known?.signature === signature) return known.binding;
  const files: ZipEntry[] = [];
  for (const path of paths) {
    files.push({ path: `node_modules/${NATIVE_BINDING}/${relative(dir, path).split(sep).join("/")}`, data: await readFile(path) });
  }
  for (const required of ["duckdb.node", "libduckdb.so"]) {
    if (!files.some((f) => f.path.endsWith(`/${required}`))) throw new BundleError(`${NATIVE_BINDING} has no ${required}; reinstall it`);
  }
  bindings.set(dir, { signature, binding: { version, files } });
  return { version, files };
}

const bindings = new Map<string, { signature: string; binding: { version: string; files: ZipEntry[] } }>();

interface Compiled {
  outputs: ZipEntry[];
  metafile: Metafile;
  /** What esbuild read, as cache.ts hashes it: the build is reused while none of them changed. */
  inputs: [string, string][];
}

/**
 * esbuild's output for one generated entry, kept for the life of the process: a process that bundles
 * twice (tests, which run the program several times) pays for the minified build once. A file that
 * changed since makes it build again.
 */
const compiled = new Map<string, Compiled>();

async function compile(root: string, entry: string, label: string): Promise<Compiled> {
  const key = `${root}\0${entry}`;
  const cached = compiled.get(key);
  if (cached && JSON.stringify(await inputHashes(cached.inputs.map(([path]) => path))) === JSON.stringify(cached.inputs)) return cached;
  const outdir = join(root, "bundle"); // nothing is written (write: false); output paths are relative to it
  const built = await build({
    entryPoints: { index: ENTRY, [ENCODER_WORKER.name]: ENCODER_WORKER.source },
    plugins: [entryPlugin(entry, root)],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    // Modules the runtime imports lazily (the telemetry SDK, connectors) go to their own chunks, so a cold
    // start parses only what it runs.
    splitting: true,
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    write: false,
    external: EXTERNAL,
    banner: { js: BANNER },
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "silent",
  }).catch((error: { errors?: { text: string; location?: { file: string; line: number } | null }[] }) => {
    const problems = (error.errors ?? []).map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text));
    throw new BundleError(`esbuild could not bundle ${label}:\n  - ${problems.join("\n  - ") || String(error)}`);
  });
  const files = Object.keys(built.metafile.inputs).filter((path) => !/^[\w-]+:/.test(path)).map((path) => resolve(root, path));
  const result: Compiled = {
    outputs: built.outputFiles.map((file) => ({ path: relative(outdir, file.path).split(sep).join("/"), data: file.contents })),
    metafile: built.metafile,
    inputs: await inputHashes(files),
  };
  compiled.set(key, result);
  return result;
}

/** Resolves the entry to the generated source, whose imports resolve from the project root. */
function entryPlugin(contents: string, root: string): Plugin {
  return {
    name: "mallard-functions-entry",
    setup(b) {
      b.onResolve({ filter: /^mallard:functions-entry$/ }, () => ({ path: "functions-entry.ts", namespace: "mallard" }));
      b.onLoad({ filter: /.*/, namespace: "mallard" }, () => ({ contents, resolveDir: root, loader: "ts" }));
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function packageJson(bindingVersion: string): string {
  return `${JSON.stringify({
    name: "mallard-functions",
    private: true,
    type: "module",
    main: BUNDLE_ENTRY,
    dependencies: { [NATIVE_BINDING]: bindingVersion },
  }, null, 2)}\n`;
}

/** `name` is `pattern` or, for `scope/prefix-*`, starts with the prefix. */
function matches(pattern: string, name: string): boolean {
  const packageName = name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0];
  return pattern.endsWith("*") ? packageName.startsWith(pattern.slice(0, -1)) : packageName === pattern;
}

function externalImports(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) if (imported.external && imported.path !== "<runtime>") names.add(imported.path);
  }
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) if (imported.external && imported.path !== "<runtime>") names.add(imported.path);
  }
  return [...names].sort();
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Files of a built zip, for checks after the fact. */
export async function zipFiles(zipPath: string): Promise<ZipEntry[]> {
  return readZip(await readFile(zipPath));
}

/** Removes built zips other than `keep`, so the cache does not grow with every change. */
export async function pruneBundles(outDir: string, keep: string): Promise<void> {
  for (const name of await readdir(outDir).catch(() => [] as string[])) {
    if (/^functions-[0-9a-f]{16}\.zip$/.test(name) && join(outDir, name) !== keep) await rm(join(outDir, name), { force: true });
  }
}
