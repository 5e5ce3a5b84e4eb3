// Getting a bronze load ready: the table's columns against its source (the declared key and cursor
// columns must exist, new source columns are added and recorded, an incompatible type change stops the
// table before it loads), its state, and where the load starts.

import type { BronzeTable } from "../declare/stages.ts";
import { ConfigError, SchemaChanged } from "../errors.ts";
import { durationSeconds } from "../declare/duration.ts";
import { type BronzeState, readBronzeState } from "../state/bronze-state.ts";
import { compareSchemas } from "../sources/schema-compare.ts";
import type { CursorPosition, ExtractRequest, SourceColumn, SourceConnector, TableSchema } from "../sources/source.ts";
import type { StageContext } from "./context.ts";

export interface BronzeLoad {
  readonly connector: SourceConnector;
  readonly schema: TableSchema;
  readonly state: BronzeState | undefined;
  readonly evolution: Evolution;
  /** The checkpoint an incremental load starts after (undefined: a full load, or the first one). */
  readonly after: CursorPosition | undefined;
}

export async function prepareBronzeLoad(ctx: StageContext<BronzeTable>): Promise<BronzeLoad> {
  const { stage } = ctx;
  const connector = await ctx.connector(stage.source);
  const schema = await connector.describe(stage.table);
  checkColumns(stage, schema);
  const { state } = await readBronzeState(ctx.lake, stage.name);
  const evolution = evolveSchema(stage, state, schema, ctx.fullRefresh, ctx.runId);
  const after = stage.incremental && !ctx.fullRefresh ? state?.checkpoint : undefined;
  return { connector, schema, state, evolution, after };
}

/** The cursor part of an extract request: after the checkpoint (less the look-back), up to `until`. */
export function cursorRequest(stage: BronzeTable, after: CursorPosition | undefined, until?: CursorPosition): ExtractRequest["cursor"] {
  if (!stage.incremental) return undefined;
  const lookBack = stage.incremental.lookBack;
  return { columns: stage.incremental.cursor, after, lookBackSeconds: after && lookBack ? durationSeconds(lookBack) : undefined, until };
}

export function checkColumns(stage: BronzeTable, schema: TableSchema): void {
  const names = new Set(schema.columns.map((c) => c.name));
  const listing = schema.columns.map((c) => c.name).join(", ");
  const problems: string[] = [];
  for (const column of stage.primaryKey) {
    if (!names.has(column)) problems.push(`stage "${stage.name}": primaryKey: column "${column}" not found in ${stage.table} (columns: ${listing})`);
  }
  for (const column of stage.incremental?.cursor ?? []) {
    if (!names.has(column)) problems.push(`stage "${stage.name}": incremental.cursor: column "${column}" not found in ${stage.table} (columns: ${listing})`);
  }
  if (problems.length) throw new ConfigError(problems);
}

export interface Evolution {
  columns: readonly SourceColumn[];
  change: BronzeState["schemaChanges"][number] | undefined;
}

/** New columns are added and recorded; an incompatible type change stops the table before it loads anything. */
export function evolveSchema(stage: BronzeTable, state: BronzeState | undefined, schema: TableSchema, fullRefresh: boolean, runId: string): Evolution {
  if (!state || state.columns.length === 0 || fullRefresh) return { columns: schema.columns, change: undefined };
  const diff = compareSchemas(state.columns, schema.columns);
  if (diff.incompatible.length) {
    const what = diff.incompatible.map((c) => `column "${c.column}" changed from ${c.from} to ${c.to}`).join("; ");
    throw new SchemaChanged(
      `stage "${stage.name}": ${stage.table}: ${what}. Nothing was loaded and the checkpoint is unchanged; ` +
        `to reload the table with the new types run: mallard run --select ${stage.name} --full-refresh`,
    );
  }
  const current = new Map(schema.columns.map((c) => [c.name, c]));
  // Keep every column ever seen (old batches still hold removed ones), with its current type when it still exists.
  const columns = [...state.columns.map((c) => current.get(c.name) ?? c), ...diff.added];
  const widened = diff.widened;
  if (!diff.added.length && !widened.length) return { columns, change: undefined };
  return { columns, change: { at: new Date().toISOString(), runId, added: diff.added, widened } };
}
