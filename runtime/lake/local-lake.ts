// The lake as a local folder. Atomicity comes from POSIX rename (replace) and link (create-if-absent);
// conditional updates hold a short lock file so concurrent processes cannot interleave.

import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Lake, type LakeObject, PreconditionFailed, type Versioned, type WriteCondition } from "./lake.ts";

const STALE_LOCK_MS = 30_000;

export class LocalLake implements Lake {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  get localRoot(): string {
    return this.root;
  }

  private abs(path: string): string {
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`lake path escapes the lake: ${path}`);
    return full;
  }

  async readJson<T>(path: string): Promise<Versioned<T> | undefined> {
    const found = await this.readText(path);
    return found && { value: JSON.parse(found.value) as T, etag: found.etag };
  }

  writeJson(path: string, value: unknown, condition: WriteCondition = {}): Promise<string> {
    return this.writeText(path, JSON.stringify(value, null, 2), condition);
  }

  async readText(path: string): Promise<Versioned<string> | undefined> {
    const text = await readFile(this.abs(path), "utf8").catch(ifMissing(undefined));
    return text === undefined ? undefined : { value: text, etag: etagOf(text) };
  }

  async writeText(path: string, text: string, condition: WriteCondition = {}): Promise<string> {
    const target = this.abs(path);
    const temp = await this.writeTemp(target, text);
    try {
      if (condition.ifMatch === null) {
        // link() fails if the target exists: create-if-absent in one system call.
        await link(temp, target).catch((e: NodeJS.ErrnoException) => {
          throw e.code === "EEXIST" ? new PreconditionFailed(path) : e;
        });
      } else if (condition.ifMatch !== undefined) {
        const expected = condition.ifMatch;
        await this.withLock(target, async () => {
          const current = await readFile(target, "utf8").catch(ifMissing(undefined));
          if (current === undefined || etagOf(current) !== expected) throw new PreconditionFailed(path);
          await rename(temp, target);
        });
      } else {
        await rename(temp, target);
      }
    } finally {
      await rm(temp, { force: true });
    }
    return etagOf(text);
  }

  async putFile(localFile: string, path: string): Promise<LakeObject> {
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.tmp`;
    // Rename when on the same file system (no copy); otherwise copy to a temp name first, so a reader
    // never sees a half-written file under the real name.
    await rename(localFile, temp).catch(() => copyFile(localFile, temp));
    await fsyncFile(temp);
    await rename(temp, target);
    return { path, size: (await stat(target)).size };
  }

  async localFiles(paths: readonly string[]): Promise<string[]> {
    return paths.map((p) => this.abs(p));
  }

  async *list(prefix: string): AsyncIterable<LakeObject> {
    const start = this.abs(prefix);
    const walk = async function* (dir: string, root: string): AsyncGenerator<LakeObject> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(ifMissing([]));
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full, root);
        else if (entry.isFile() && !entry.name.endsWith(".tmp") && !entry.name.endsWith(".lock")) {
          const info = await stat(full);
          yield { path: relative(root, full).split(sep).join("/"), size: info.size, modified: info.mtimeMs };
        }
      }
    };
    yield* walk(start, this.root);
  }

  async delete(path: string): Promise<void> {
    await unlink(this.abs(path)).catch(ifMissing(undefined));
  }

  externalPath(path: string): string {
    return this.abs(path);
  }

  private async writeTemp(target: string, text: string): Promise<string> {
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.tmp`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  private async withLock<T>(target: string, body: () => Promise<T>): Promise<T> {
    const lock = `${target}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
        await handle.close();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs).catch(() => Date.now()));
        if (age > STALE_LOCK_MS) await unlink(lock).catch(() => undefined); // a crashed holder
        await sleep(Math.min(50, 2 + attempt));
      }
    }
    try {
      return await body();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}

function etagOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ifMissing<T>(fallback: T) {
  return (e: NodeJS.ErrnoException): T => {
    // ENOTDIR: a parent is a file, so the object cannot exist either.
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return fallback;
    throw e;
  };
}
