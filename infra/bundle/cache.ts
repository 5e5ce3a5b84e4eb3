// The bundle's cache across processes: `pulumi preview` and `pulumi up` each start a fresh Node, so a zip
// is reused only if it is found on disk. The cache is a manifest beside the zips: a key hashing what the
// build was asked for (the generated entry, host.json, the SQL files, the native binding, the budget,
// esbuild's version) and the inputs esbuild read. The zip is reused while both match and the zip is still
// there with its size: any changed byte in a runtime file, the declaration, a transform or a SQL file
// builds again. Installed packages count by their package.json (name, version: what an install changes):
// the sample reads ~5,400 files under node_modules, and hashing them all took 6-8 s on the shared
// machine against 0.5 s for the project's own ~160 files. A hand edit under node_modules is not seen;
// delete node_modules/.cache/mallard to rebuild.

import { createHash } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

const MANIFEST = "bundle-cache.json";
const FORMAT = 1;

export interface CacheManifest<B> {
  format: number;
  key: string;
  /** What esbuild read, relative to the project root, with their SHA-256: see inputHashes. */
  inputs: [string, string][];
  /** The zip's file name in the cache folder and its size. */
  zip: { name: string; bytes: number };
  bundle: B;
}

export const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

async function fileHash(path: string): Promise<string> {
  return sha256(await readFile(path).catch(() => Buffer.alloc(0)));
}

/** The hash of the inputs the key covers; an object whose values are strings or lists of them. */
export function cacheKey(parts: Record<string, string | readonly string[]>): string {
  return sha256(JSON.stringify({ format: FORMAT, ...parts }));
}

/**
 * The hashes that stand for the files esbuild read: a project file's content, or for a file inside an
 * installed package, that package's package.json (once per package). Paths are absolute.
 */
export async function inputHashes(files: readonly string[]): Promise<[string, string][]> {
  const ids = new Set<string>();
  for (const file of files) {
    const at = file.lastIndexOf(`${sep}node_modules${sep}`);
    if (at < 0) {
      ids.add(file);
      continue;
    }
    const rest = file.slice(at + 14).split(sep);
    const name = rest[0].startsWith("@") ? rest.slice(0, 2).join(sep) : rest[0];
    ids.add(join(file.slice(0, at + 13), name, "package.json"));
  }
  const sorted = [...ids].sort();
  const hashes = await Promise.all(sorted.map(fileHash));
  return sorted.map((id, i) => [id, hashes[i]]);
}

/** The cached bundle for `key`, when every input file still has its hash and the zip is intact. */
export async function readCached<B>(outDir: string, root: string, key: string): Promise<{ bundle: B; zipPath: string } | undefined> {
  let manifest: CacheManifest<B>;
  try {
    manifest = JSON.parse(await readFile(join(outDir, MANIFEST), "utf8")) as CacheManifest<B>;
  } catch {
    return undefined;
  }
  if (manifest.format !== FORMAT || manifest.key !== key) return undefined;
  const zipPath = join(outDir, manifest.zip.name);
  const size = await stat(zipPath).then((s) => s.size, () => -1);
  if (size !== manifest.zip.bytes) return undefined;
  const hashes = await Promise.all(manifest.inputs.map(([path]) => fileHash(resolve(root, path))));
  if (hashes.some((hash, i) => hash !== manifest.inputs[i][1])) return undefined;
  return { bundle: manifest.bundle, zipPath };
}

/** Records a built zip as the cache's entry (one entry: the last build, as pruneBundles keeps one zip). */
export async function writeCached<B>(outDir: string, root: string, key: string, inputs: [string, string][], zipPath: string, zipBytes: number, bundle: B): Promise<void> {
  const manifest: CacheManifest<B> = {
    format: FORMAT,
    key,
    inputs: inputs.map(([path, hash]) => [relative(root, path).split(sep).join("/"), hash]),
    zip: { name: relative(outDir, zipPath), bytes: zipBytes },
    bundle,
  };
  // Written aside and renamed: two programs racing leave one whole manifest, never a torn one.
  const temp = join(outDir, `${MANIFEST}.${process.pid}.tmp`);
  await writeFile(temp, JSON.stringify(manifest));
  await rename(temp, join(outDir, MANIFEST));
}
