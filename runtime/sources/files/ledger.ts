// The ledger of a file source: which files bronze holds, whole or in part. It is a file source's
// checkpoint and is committed with the rows it covers, so a file is loaded exactly once: a crash before
// the commit leaves the ledger as it was (the file is read again), a crash after it leaves the file done.

import type { FileLedger, LedgerEntry, SourceFile } from "../source.ts";

const same = (entry: LedgerEntry, file: SourceFile) => entry.path === file.path && entry.size === file.size && entry.modified === file.modified;

/** The file, as listed now, is in bronze whole. */
export function isLoaded(ledger: FileLedger, file: SourceFile): boolean {
  return ledger.some((entry) => !entry.partial && same(entry, file));
}

/** Rows of the file already in bronze from a load that stopped inside it (0 when none, or when the file changed since). */
export function rowsLoaded(ledger: FileLedger, file: SourceFile): number {
  return ledger.find((entry) => entry.partial && same(entry, file))?.rows ?? 0;
}

/** The ledger without files no longer in the drop (moved away or deleted): it stays as large as the drop. */
export function pruneLedger(ledger: FileLedger, listed: readonly SourceFile[]): FileLedger {
  const present = new Set(listed.map((f) => f.path));
  return ledger.filter((entry) => present.has(entry.path));
}

/** The ledger once `rows` rows of `file` (from its first row) are in bronze; `whole` when that is all of it. */
export function record(ledger: FileLedger, file: SourceFile, rows: number, whole: boolean): FileLedger {
  const entry: LedgerEntry = { path: file.path, size: file.size, modified: file.modified, rows, ...(whole ? {} : { partial: true as const }) };
  return [...ledger.filter((e) => e.path !== file.path), entry];
}
