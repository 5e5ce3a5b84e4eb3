// Copies of drop files that discover made and read will use, so a file from the lake is downloaded once.
// Kept up to a disk budget; beyond it a copy is removed at once and read copies the file again, so disk
// stays bounded whatever the size of a backlog.

import { rm, stat } from "node:fs/promises";
import type { SourceFile } from "../source.ts";

const DEFAULT_BUDGET = 2 * 1024 ** 3;

const keyOf = (file: SourceFile) => JSON.stringify([file.path, file.size, file.modified]);

export class StagedFiles {
  private readonly kept = new Map<string, { local: string; bytes: number }>();
  private bytes = 0;

  constructor(private readonly budget = DEFAULT_BUDGET) {}

  /** Keep `local` for `file` if it fits the budget; remove it otherwise. `alsoRemove`: a source copy no longer needed. */
  async keep(file: SourceFile, local: string, alsoRemove?: string): Promise<void> {
    if (alsoRemove) await rm(alsoRemove, { force: true });
    const bytes = (await stat(local).catch(() => undefined))?.size ?? 0;
    if (this.bytes + bytes > this.budget) {
      await rm(local, { force: true });
      return;
    }
    this.kept.set(keyOf(file), { local, bytes });
    this.bytes += bytes;
  }

  /** The kept copy of `file` (now the caller's to remove), or undefined. */
  take(file: SourceFile): string | undefined {
    const found = this.kept.get(keyOf(file));
    if (!found) return undefined;
    this.kept.delete(keyOf(file));
    this.bytes -= found.bytes;
    return found.local;
  }

  async clear(): Promise<void> {
    await Promise.all([...this.kept.values()].map((k) => rm(k.local, { force: true })));
    this.kept.clear();
    this.bytes = 0;
  }
}
