// Delta checkpoints: reading every kind a reader meets (classic, multi-part, V2 with sidecars, in Parquet
// or JSON) and writing classic V1 Parquet checkpoints with `_last_checkpoint`, so readers replay from the
// newest checkpoint instead of from version 0. DuckDB reads and writes the Parquet; the checkpoint's
// schema follows PROTOCOL.md's "Checkpoint Schema" (maps as Parquet MAPs, stats as a JSON string).

import type { DuckDBConnection } from "@duckdb/node-api";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { queryRows, workDirOf } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { crashPoint } from "../../faults.ts";
import { type Lake, lakePath, PreconditionFailed } from "../lake.ts";
import { logPath, parseCommit, versionName } from "./actions.ts";
import type { Checkpoint } from "./log-files.ts";
import type { TableState } from "./replay.ts";

/** Action columns a checkpoint may hold; anything else in its schema is ignored. */
const ACTION_COLUMNS = ["protocol", "metaData", "txn", "add", "remove", "domainMetadata", "checkpointMetadata", "sidecar"] as const;

/** The actions a checkpoint holds (for V2 checkpoints, with its sidecars' file actions). */
export async function readCheckpoint(lake: Lake, con: DuckDBConnection, root: string, checkpoint: Checkpoint): Promise<Record<string, unknown>[]> {
  const first = checkpoint.files[0].path;
  const actions = first.endsWith(".json")
    ? parseCommit((await lake.readText(first))?.value ?? "", first)
    : await readParquetActions(lake, con, checkpoint.files.map((f) => f.path));
  const sidecars = actions.flatMap((a) => (a.sidecar ? [(a.sidecar as { path: string }).path] : []));
  if (sidecars.length === 0) return actions;
  const files = sidecars.map((p) => lakePath(logPath(root), "_sidecars", decodeURIComponent(p)));
  return [...actions.filter((a) => !a.sidecar), ...(await readParquetActions(lake, con, files))];
}

async function readParquetActions(lake: Lake, con: DuckDBConnection, paths: readonly string[]): Promise<Record<string, unknown>[]> {
  const files = await lake.localFiles(paths);
  const source = `read_parquet([${files.map(quoteLiteral).join(", ")}], union_by_name = true)`;
  const present = new Set((await queryRows<{ column_name: string }>(con, `DESCRIBE SELECT * FROM ${source}`)).map((r) => r.column_name));
  const columns = ACTION_COLUMNS.filter((c) => present.has(c));
  if (columns.length === 0) return [];
  // One JSON object per row: the one action column that is set.
  const json = `CASE ${columns.map((c) => `WHEN ${quoteIdent(c)} IS NOT NULL THEN json_object(${quoteLiteral(c)}, to_json(${quoteIdent(c)}))`).join(" ")} END`;
  const rows = await queryRows<{ action: string | null }>(con, `SELECT ${json}::VARCHAR AS action FROM ${source}`);
  return rows.flatMap((r) => (r.action ? [JSON.parse(r.action) as Record<string, unknown>] : []));
}

/** DuckDB types of a V1 checkpoint's columns (PROTOCOL.md, "Checkpoint Schema"). */
const CHECKPOINT_COLUMNS: Readonly<Record<string, string>> = {
  txn: "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)",
  add: "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR))",
  remove: "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)",
  metaData:
    "STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), " +
    "schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)",
  protocol: "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])",
};

export interface LastCheckpoint {
  readonly version: number;
  readonly size: number;
  readonly sizeInBytes?: number;
  readonly numOfAddFiles?: number;
}

/**
 * Write the classic checkpoint of `state` at `version`, then point `_last_checkpoint` at it (never back
 * at an older one). The checkpoint appears whole or not at all; writing the same one twice is harmless.
 */
export async function writeCheckpoint(lake: Lake, con: DuckDBConnection, root: string, version: number, state: TableState, now = Date.now()): Promise<LastCheckpoint> {
  // In the engine's work folder: a locked-down engine writes nowhere else.
  const work = await mkdtemp(join(await workDirOf(con), "checkpoint-"));
  try {
    const actionsFile = join(work, "actions.ndjson");
    const out = createWriteStream(actionsFile);
    let size = 0;
    const write = async (action: object) => {
      size++;
      if (!out.write(`${JSON.stringify(action)}\n`)) await once(out, "drain");
    };
    await write({ protocol: state.protocol });
    await write({ metaData: state.metadata });
    for (const txn of state.txns.values()) await write({ txn });
    for (const add of state.files.values()) await write({ add: { ...add, dataChange: false } });
    const expiry = now - tombstoneRetentionMs(state.metadata?.configuration ?? {});
    for (const remove of state.tombstones.values()) {
      if ((remove.deletionTimestamp ?? 0) > expiry) {
        const { path, deletionTimestamp, extendedFileMetadata, partitionValues, size: bytes } = remove;
        await write({ remove: { path, deletionTimestamp, dataChange: false, extendedFileMetadata, partitionValues, size: bytes } });
      }
    }
    out.end();
    await once(out, "close");
    const parquet = join(work, "checkpoint.parquet");
    const columns = Object.entries(CHECKPOINT_COLUMNS).map(([k, v]) => `${quoteIdent(k)}: ${quoteLiteral(v)}`).join(", ");
    await con.run(
      `COPY (SELECT * FROM read_json(${quoteLiteral(actionsFile)}, format = 'newline_delimited', columns = {${columns}})) ` +
        `TO ${quoteLiteral(parquet)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const object = await lake.putFile(parquet, logPath(root, `${versionName(version)}.checkpoint.parquet`));
    crashPoint("delta:{table}:before-last-checkpoint", { table: root });
    const last: LastCheckpoint = { version, size, sizeInBytes: object.size, numOfAddFiles: state.files.size };
    await advanceLastCheckpoint(lake, root, last);
    return last;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function advanceLastCheckpoint(lake: Lake, root: string, last: LastCheckpoint): Promise<void> {
  const path = logPath(root, "_last_checkpoint");
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await lake.readText(path);
    const version = current ? Number((JSON.parse(current.value || "{}") as { version?: number }).version ?? -1) : -1;
    if (version >= last.version) return;
    try {
      await lake.writeText(path, JSON.stringify(last), { ifMatch: current ? current.etag : null });
      return;
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) throw e;
    }
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

/** `delta.deletedFileRetentionDuration` ("interval 1 week" by default) in milliseconds. */
export function tombstoneRetentionMs(configuration: Readonly<Record<string, string>>): number {
  const text = configuration["delta.deletedFileRetentionDuration"] ?? "interval 1 week";
  const m = /^\s*(?:interval\s+)?(\d+)\s+(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2].toLowerCase()] : UNIT_MS.week;
}
