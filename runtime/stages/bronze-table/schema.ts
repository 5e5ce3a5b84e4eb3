// Getting a bronze load ready: the resource's columns from its source (with the stage's column
// overrides), the declared key and cursor columns checked against them, new source columns added and
// recorded, an incompatible type change stopping the stage before it loads, its state, and the slice
// the load reads (incremental.ts checks the checkpoint against the schema).

import type { BronzeTable } from "../../declare/stages.ts";
import { describeResource } from "../../declare/sources.ts";
import { ConfigError, SchemaChanged } from "../../errors.ts";
import { durationSeconds } from "../../declare/duration.ts";
import type { Snapshot } from "../../lake/delta/replay.ts";
import type { BronzeState } from "../../state/bronze-state.ts";
import { readBronze } from "./state.ts";
import { LOAD_DATE_COLUMN } from "./log.ts";
import { compareSchemas } from "../../sources/schema-compare.ts";
import { cursorSlice, type CursorSlice } from "../../sources/incremental.ts";
import type { CursorPosition, ResourceSchema, SourceColumn, SourceConnector } from "../../sources/source.ts";
import type { StageContext } from "../context.ts";

export interface BronzeLoad {
  readonly connector: SourceConnector;
  readonly schema: ResourceSchema;
  readonly state: BronzeState | undefined;
  /** The table's latest version (undefined: never committed). */
  readonly snapshot: Snapshot | undefined;
  readonly evolution: Evolution;
  /** The checkpoint an incremental load starts after (undefined: a full load, or the first one). */
  readonly after: CursorPosition | undefined;
}

/** Incremental by a cursor, or by new files (a file drop's ledger). */
export function isIncremental(stage: BronzeTable): boolean {
  return stage.incremental !== undefined || (stage.resource.kind === "files" && stage.resource.load === "incremental");
}

export async function prepareBronzeLoad(ctx: StageContext<BronzeTable>): Promise<BronzeLoad> {
  const { stage } = ctx;
  const connector = await ctx.connector(stage.source);
  const { state, snapshot } = await readBronze(ctx);
  // A file drop loading new files reads only those its ledger does not hold; a full refresh starts the ledger afresh.
  const ledger = stage.resource.kind === "files" && stage.resource.load === "incremental" ? (ctx.fullRefresh ? [] : state?.ledger ?? []) : undefined;
  const discovered = await connector.discover(stage.resource, ctx.fullRefresh ? undefined : state?.columns, { engine: ctx.engine, ledger });
  // A drop with no file yet has no columns to check the key against: the load finds nothing, and waits.
  const waiting = discovered.columns.length === 0 && discovered.files !== undefined;
  const schema = waiting ? discovered : withOverrides(stage, discovered);
  if (!waiting) {
    checkReserved(stage, schema);
    checkColumns(stage, schema);
  }
  const evolution = evolveSchema(stage, state, schema, ctx.fullRefresh, ctx.runId);
  const after = stage.incremental && !ctx.fullRefresh ? state?.checkpoint : undefined;
  return { connector, schema, state, snapshot, evolution, after };
}

/** The slice an incremental stage reads: after the checkpoint (less the look-back), up to `until`. */
export function stageSlice(
  stage: BronzeTable,
  connector: SourceConnector,
  schema: ResourceSchema,
  after: CursorPosition | undefined,
  until?: CursorPosition,
): CursorSlice | undefined {
  if (!stage.incremental) return undefined;
  const { cursor, lookBack } = stage.incremental;
  return cursorSlice(schema, { columns: cursor, lookBackSeconds: lookBack && durationSeconds(lookBack) }, after, until, (c) => connector.refuseCursor?.(c));
}

/** The schema with the stage's `columns` overrides applied: a `"text"` column is stored as the source's text. */
export function withOverrides(stage: BronzeTable, schema: ResourceSchema): ResourceSchema {
  const overrides = stage.columns ?? {};
  const missing = Object.keys(overrides).filter((name) => !schema.columns.some((c) => c.name === name));
  if (missing.length) {
    throw new ConfigError(missing.map((name) => `stage "${stage.name}": columns: column "${name}" not found in ${schema.label} (columns: ${schema.columns.map((c) => c.name).join(", ")})`));
  }
  if (Object.keys(overrides).length === 0) return schema;
  return { ...schema, columns: schema.columns.map((c) => (overrides[c.name] === "text" ? { ...c, duckType: "VARCHAR", asText: true } : c)) };
}

/**
 * Names bronze gives its own columns: the partition folder's key (`_load_date=`, which a reader using
 * hive partitioning would put over a source column of that name) and `_mallard_…` (tombstones, load order).
 */
export function checkReserved(stage: BronzeTable, schema: ResourceSchema): void {
  const taken = schema.columns.filter((c) => c.name === LOAD_DATE_COLUMN || c.name.startsWith("_mallard_"));
  if (taken.length) {
    throw new ConfigError(taken.map((c) => `stage "${stage.name}": ${schema.label}: column "${c.name}" has a name bronze reserves ` +
      `(${LOAD_DATE_COLUMN} is its partition folder, _mallard_* its own columns); rename it in a view of the source`));
  }
}

export function checkColumns(stage: BronzeTable, schema: ResourceSchema): void {
  const names = new Set(schema.columns.map((c) => c.name));
  const listing = schema.columns.map((c) => c.name).join(", ");
  const where = describeResource(stage.resource);
  const problems: string[] = [];
  for (const column of stage.primaryKey) {
    if (!names.has(column)) problems.push(`stage "${stage.name}": primaryKey: column "${column}" not found in ${where} (columns: ${listing})`);
  }
  for (const column of stage.incremental?.cursor ?? []) {
    if (!names.has(column)) problems.push(`stage "${stage.name}": incremental.cursor: column "${column}" not found in ${where} (columns: ${listing})`);
  }
  if (problems.length) throw new ConfigError(problems);
}

export interface Evolution {
  columns: readonly SourceColumn[];
  /** Columns of `columns` the source no longer has. */
  dropped: readonly string[];
  change: BronzeState["schemaChanges"][number] | undefined;
}

/**
 * New columns are added and recorded; an incompatible type change stops the table before it loads
 * anything; a column the source dropped is recorded and kept (older batches hold it), and readers of the
 * latest rows see it NULL rather than old values beside new NULLs.
 */
export function evolveSchema(stage: BronzeTable, state: BronzeState | undefined, schema: ResourceSchema, fullRefresh: boolean, runId: string): Evolution {
  if (!state || state.columns.length === 0 || fullRefresh) return { columns: schema.columns, dropped: [], change: undefined };
  const diff = compareSchemas(state.columns, schema.columns);
  if (diff.incompatible.length) {
    const what = diff.incompatible.map((c) => `column "${c.column}" changed from ${c.from} to ${c.to}`).join("; ");
    throw new SchemaChanged(
      `stage "${stage.name}": ${describeResource(stage.resource)}: ${what}. Nothing was loaded and the checkpoint is unchanged; ` +
        `to reload the table with the new types run: mallard run --select ${stage.name} --full-refresh`,
    );
  }
  const current = new Map(schema.columns.map((c) => [c.name, c]));
  // Keep every column ever seen (old batches still hold removed ones), with its current type when it still exists.
  const columns = [...state.columns.map((c) => current.get(c.name) ?? c), ...diff.added];
  const widened = diff.widened;
  const wasDropped = new Set(state.dropped ?? []);
  // A dropped column back in the source counts as added again.
  const added = [...schema.columns.filter((c) => wasDropped.has(c.name)), ...diff.added];
  const dropped = diff.removed.filter((name) => !wasDropped.has(name));
  const stillDropped = diff.removed;
  if (!added.length && !widened.length && !dropped.length) return { columns, dropped: stillDropped, change: undefined };
  return { columns, dropped: stillDropped, change: { at: new Date().toISOString(), runId, added, widened, ...(dropped.length ? { dropped } : {}) } };
}
