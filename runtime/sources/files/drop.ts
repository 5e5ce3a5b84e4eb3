// Where files are dropped: a local folder or a folder of the lake's `landing` container. A drop lists its
// files, copies one into the engine's work folder (DuckDB reads nothing else), and moves a refused file
// aside to `_rejected/` with a `.reason.txt` beside it, so it never blocks the others and a person can
// see why.

import { constants } from "node:fs";
import { copyFile, link, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { FilesSource } from "../../declare/files.ts";
import { type Lake, lakePath } from "../../lake/lake.ts";
import { SourceError } from "../../errors.ts";
import type { SourceFile } from "../source.ts";

/** The folder refused files are moved to, under the drop's root. Never listed. */
export const REJECTED = "_rejected";

export interface Drop {
  /** For messages: `folder /data/drops`, `landing/shop`. */
  readonly where: string;
  /** Every file under the root (paths relative to it, `/`-separated), except `_rejected/` and hidden or lock files. */
  list(): AsyncIterable<SourceFile>;
  /** Copy `file` to `local`; false when it changed since it was listed (still being written: left for the next run). */
  stage(file: SourceFile, local: string): Promise<boolean>;
  /** Move `file` aside with its reason; `staged` is its local copy, if any. Returns where it went. */
  reject(file: SourceFile, reason: string, staged?: string): Promise<string>;
}

export function openDrop(source: FilesSource, lake: Lake | undefined): Drop {
  if (source.folder !== undefined) return new FolderDrop(resolve(source.folder));
  if (!lake) throw new SourceError(`source "${source.name}": landing: no lake to read the landing container from`);
  return new LandingDrop(lake, source.landing ?? "");
}

/** Hidden files, editors' lock files (`~$book.xlsx`) and partial downloads are not drops. */
function skipped(name: string): boolean {
  return name.startsWith(".") || name.startsWith("~$") || /\.(tmp|part|partial|crdownload|lock)$/i.test(name);
}

/** `orders/a.csv` → `_rejected/orders/a.csv`, or `_rejected/orders/a.<time>.csv` if that name is taken. */
function rejectedName(path: string, taken: boolean): string {
  if (!taken) return `${REJECTED}/${path}`;
  const dot = path.lastIndexOf(".");
  const stamp = new Date().toISOString().replace(/[-:.]/g, "");
  return dot > path.lastIndexOf("/") ? `${REJECTED}/${path.slice(0, dot)}.${stamp}${path.slice(dot)}` : `${REJECTED}/${path}.${stamp}`;
}

function reasonText(file: SourceFile, reason: string): string {
  return `${file.path}\nrefused ${new Date().toISOString()}\n${reason}\n`;
}

/** Link when the file system allows (no copy), else copy; the result is a file of its own name either way. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { force: true });
  await link(from, to).catch(() => copyFile(from, to, constants.COPYFILE_FICLONE));
}

export class FolderDrop implements Drop {
  constructor(readonly root: string) {}

  get where(): string {
    return `folder ${this.root}`;
  }

  async *list(): AsyncIterable<SourceFile> {
    const found = await stat(this.root).catch(() => undefined);
    if (!found?.isDirectory()) throw new SourceError(`folder ${this.root} does not exist`);
    const walk = async function* (dir: string, root: string): AsyncGenerator<SourceFile> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (skipped(entry.name)) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (dir === root && entry.name === REJECTED) continue;
          yield* walk(full, root);
        } else if (entry.isFile()) {
          const info = await stat(full).catch(() => undefined);
          if (info) yield { path: relative(root, full).split(sep).join("/"), size: info.size, modified: Math.floor(info.mtimeMs) };
        }
      }
    };
    yield* walk(this.root, this.root);
  }

  async stage(file: SourceFile, local: string): Promise<boolean> {
    const from = join(this.root, file.path);
    // A copy, not a link: a writer that keeps appending to the original cannot change what is read.
    await mkdir(dirname(local), { recursive: true });
    await copyFile(from, local, constants.COPYFILE_FICLONE);
    const [now, copied] = await Promise.all([stat(from).catch(() => undefined), stat(local)]);
    return !!now && now.size === file.size && Math.floor(now.mtimeMs) === file.modified && copied.size === file.size;
  }

  async reject(file: SourceFile, reason: string): Promise<string> {
    const from = join(this.root, file.path);
    let target = rejectedName(file.path, false);
    if (await stat(join(this.root, target)).then(() => true, () => false)) target = rejectedName(file.path, true);
    await mkdir(dirname(join(this.root, target)), { recursive: true });
    await writeFile(join(this.root, `${target}.reason.txt`), reasonText(file, reason));
    await rename(from, join(this.root, target));
    return target;
  }
}

export class LandingDrop implements Drop {
  private readonly root: string;

  constructor(private readonly lake: Lake, prefix: string) {
    this.root = lakePath("landing", prefix);
  }

  get where(): string {
    return this.root;
  }

  async *list(): AsyncIterable<SourceFile> {
    const files: SourceFile[] = [];
    for await (const object of this.lake.list(this.root)) {
      const path = object.path.slice(this.root.length + 1);
      if (path.split("/")[0] === REJECTED || path.split("/").some(skipped)) continue;
      files.push({ path, size: object.size, modified: Math.floor(object.modified ?? 0) });
    }
    yield* files.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async stage(file: SourceFile, local: string): Promise<boolean> {
    const path = lakePath(this.root, file.path);
    const [cached] = await this.lake.localFiles([path]);
    try {
      await linkOrCopy(cached, local);
    } finally {
      await this.lake.release?.([path]);
    }
    return (await stat(local)).size === file.size;
  }

  async reject(file: SourceFile, reason: string, staged?: string): Promise<string> {
    const path = lakePath(this.root, file.path);
    let target = rejectedName(file.path, false);
    for await (const taken of this.lake.list(lakePath(this.root, target))) {
      if (taken.path === lakePath(this.root, target)) target = rejectedName(file.path, true);
    }
    const copy = staged ?? (await this.lake.localFiles([path]))[0];
    // putFile moves a local lake's file into place: hand it a copy of its own.
    const temp = `${copy}.reject`;
    await linkOrCopy(copy, temp);
    await this.lake.writeText(lakePath(this.root, `${target}.reason.txt`), reasonText(file, reason));
    await this.lake.putFile(temp, lakePath(this.root, target));
    await this.lake.delete(path);
    await this.lake.release?.([path]);
    return target;
  }
}
