// Where an encoder worker's code is: a file of its own, since a worker thread starts from a file.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The worker's entry as bundles name it (a file `parquet-encoder-worker.js` or `.mjs` at their root), and its source. */
export const ENCODER_WORKER = {
  name: "parquet-encoder-worker",
  source: fileURLToPath(new URL("./worker.ts", import.meta.url)),
} as const;

/**
 * The worker's entry file. In a bundle (dist/, the Functions bundle) it is an entry of its own at the
 * bundle's root, where this code sits in an entry or one folder down in chunks/ (scripts/build.mjs,
 * infra/bundle/bundle.ts). From source (TypeScript run through tsx, whose hooks Node 20 does not carry
 * into workers, and which would cost the worker ~150 ms to start) it is built once with esbuild into
 * node_modules/.cache/mallard/, named by the hash of its sources.
 */
export function workerEntry(): Promise<URL> {
  const here = import.meta.url;
  if (here.endsWith(".ts")) return (builtWorker ??= buildWorkerFromSource());
  for (const folder of ["./", "../"]) {
    for (const extension of [".js", ".mjs"]) {
      const url = new URL(`${folder}${ENCODER_WORKER.name}${extension}`, here);
      if (existsSync(url)) return Promise.resolve(url);
    }
  }
  return Promise.reject(new Error(
    `the Parquet encoder's worker file is missing beside ${fileURLToPath(here)}: a bundle of Mallard needs ` +
      `runtime/engine/parquet-encoder/worker.ts as an entry of its own, named ${ENCODER_WORKER.name}`,
  ));
}

let builtWorker: Promise<URL> | undefined;

async function buildWorkerFromSource(): Promise<URL> {
  // Every module of this folder: the worker imports nothing else of Mallard's (packages stay imports).
  const folder = new URL("./", import.meta.url);
  const names = (await readdir(folder)).filter((name) => name.endsWith(".ts")).sort();
  const hash = createHash("sha256");
  for (const name of names) hash.update(`${name}\0`).update(await readFile(new URL(name, folder)));
  const cache = new URL("../../../node_modules/.cache/mallard/", import.meta.url);
  const entry = new URL(`${ENCODER_WORKER.name}-${hash.digest("hex").slice(0, 16)}.mjs`, cache);
  if (existsSync(entry)) return entry;
  // A specifier bundlers cannot follow: bundles never take this path, and must not carry esbuild.
  const bundler = "esbuild";
  const { build } = (await import(bundler)) as typeof import("esbuild");
  const built = await build({
    entryPoints: [ENCODER_WORKER.source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    write: false,
    logLevel: "silent",
  });
  await mkdir(cache, { recursive: true });
  // Written aside and renamed: another process building the same worker sees all of it or nothing.
  const partial = new URL(`${entry.href}.${process.pid}`);
  await writeFile(partial, built.outputFiles[0].contents);
  await rename(partial, entry);
  return entry;
}
