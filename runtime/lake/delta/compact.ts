// Compaction (Delta's OPTIMIZE): small files of a partition are rewritten into fewer, larger ones, in one
// commit per partition that removes them and adds the new file with `dataChange: false` (readers and
// streams see the same rows). The commit goes ahead only while every file it replaces is still live, so
// a concurrent overwrite or another compaction wins and this one steps aside. Idempotent: a partition
// left with one small file is not touched again.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { copyToParquet } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import type { Lake } from "../lake.ts";
import { type AddFile, dataFilePath } from "./actions.ts";
import { commit } from "./commit.ts";
import { loadSnapshot, type Snapshot } from "./replay.ts";
import { duckTypeOf } from "./schema.ts";
import { removeOf, uploadDataFile } from "./write.ts";

export interface CompactOptions {
  /** Files smaller than this are rewritten. @default 32 MiB */
  readonly smallFileBytes?: number;
  /** A rewritten file holds about this much (compressed, estimated from its inputs). @default 128 MiB */
  readonly targetFileBytes?: number;
  /** Local folder for the new files before upload. */
  readonly workDir: string;
  /** The order files are merged in (older first): rows keep it in the new file. @default by path */
  readonly order?: (a: AddFile, b: AddFile) => number;
  /** Tags of the new file, from the files it replaces. */
  readonly tags?: (replaced: readonly AddFile[]) => Record<string, string> | undefined;
}

export interface CompactResult {
  readonly table: string;
  /** Files removed and files added, over all commits. */
  readonly removed: number;
  readonly added: number;
  readonly commits: number;
  /** Bins a concurrent commit changed first (nothing written for them). */
  readonly skipped: number;
}

export async function compactTable(lake: Lake, con: DuckDBConnection, root: string, options: CompactOptions): Promise<CompactResult | undefined> {
  const snapshot = await loadSnapshot(lake, con, root);
  if (!snapshot) return undefined;
  const small = options.smallFileBytes ?? 32 * 1024 * 1024;
  const target = options.targetFileBytes ?? 128 * 1024 * 1024;
  const order = options.order ?? ((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const result = { table: root, removed: 0, added: 0, commits: 0, skipped: 0 };
  for (const bin of bins(snapshot, small, target, order)) {
    const add = await rewrite(lake, con, snapshot, bin, options);
    const outcome = await commit(lake, con, root, (current) => {
      if (!current || bin.some((f) => !current.files.has(f.path))) return { stepAside: "a file to compact was removed by a concurrent commit" };
      const now = Date.now();
      return {
        actions: [...bin.map((f) => ({ remove: removeOf(f, now, false) })), { add }],
        operation: "OPTIMIZE",
        operationParameters: { predicate: "[]", zOrderBy: "[]" },
      };
    });
    if (outcome.committed) {
      result.removed += bin.length;
      result.added += 1;
      result.commits += 1;
    } else {
      await lake.delete(dataFilePath(root, add.path));
      result.skipped += 1;
    }
  }
  return result;
}

/** Groups of at least two small files of one partition, each group about `target` bytes. */
function bins(snapshot: Snapshot, small: number, target: number, order: (a: AddFile, b: AddFile) => number): AddFile[][] {
  const byPartition = new Map<string, AddFile[]>();
  for (const add of snapshot.files.values()) {
    if (add.size >= small) continue;
    const key = JSON.stringify(Object.entries(add.partitionValues).sort());
    byPartition.set(key, [...(byPartition.get(key) ?? []), add]);
  }
  const out: AddFile[][] = [];
  for (const files of byPartition.values()) {
    let bin: AddFile[] = [];
    let bytes = 0;
    for (const file of files.sort(order)) {
      if (bin.length && bytes + file.size > target) {
        out.push(bin);
        bin = [];
        bytes = 0;
      }
      bin.push(file);
      bytes += file.size;
    }
    out.push(bin);
  }
  return out.filter((b) => b.length >= 2);
}

/** One new file holding the bin's rows, in the bin's order, every column in the table's stored type. */
async function rewrite(lake: Lake, con: DuckDBConnection, snapshot: Snapshot, bin: readonly AddFile[], options: CompactOptions): Promise<AddFile> {
  const local = await lake.localFiles(bin.map((f) => dataFilePath(snapshot.root, f.path)));
  const partitions = new Set(snapshot.metadata.partitionColumns);
  const data = snapshot.schema.fields.filter((f) => !partitions.has(f.name));
  const source = `read_parquet([${local.map(quoteLiteral).join(", ")}], union_by_name = true, hive_partitioning = false, filename = '__file', file_row_number = true)`;
  const present = new Set((await con.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`)).columnNames().map((n) => n.toLowerCase()));
  const columns = data.map((f) => (present.has(f.name.toLowerCase()) ? `CAST(${quoteIdent(f.name)} AS ${duckTypeOf(f.type)})` : `NULL::${duckTypeOf(f.type)}`) + ` AS ${quoteIdent(f.name)}`);
  const rank = `CASE __file ${local.map((f, i) => `WHEN ${quoteLiteral(f)} THEN ${i}`).join(" ")} END`;
  const file = join(options.workDir, `compact-${randomUUID()}.parquet`);
  await copyToParquet(con, `SELECT ${columns.join(", ")} FROM ${source} ORDER BY ${rank}, file_row_number`, file);
  const first = bin[0];
  return uploadDataFile(lake, con, snapshot.root, snapshot.schema, { localFile: file, partitionValues: first.partitionValues, tags: options.tags?.(bin) }, false);
}
