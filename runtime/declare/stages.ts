// Stage declarations: bronze tables, silver and gold models. Plain typed data: the DAG comes from the
// objects passed as inputs; the run code is in runtime/stages/<kind>.ts and the resources in infra/stages/<kind>.ts.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Check } from "./checks.ts";
import type { Duration } from "./duration.ts";
import type { DedupSpec, SilverDedupArgs } from "./dedup.ts";
import type { EndpointResource, JsonScalar, Paginator, RestSource, SinceFormat } from "./rest.ts";
import { filesResource, type FilesResourceArgs, type FilesSource } from "./files.ts";
import type { Resource, Source, SqlSource } from "./sources.ts";

export type Layer = "bronze" | "silver" | "gold";

/**
 * How a large bronze table splits into tasks that extract in parallel (on several function instances in
 * Azure). Ranges are computed once per run; rows whose partition column is NULL go to the first task. The
 * table's batch and checkpoint are committed only when every task is done.
 * - `chunks`: `count` tasks carrying similar row counts however skewed the column: ranges cut at the
 *   column's quantiles (from a sample of a large table).
 * - `range`: ranges `step` wide (a number, or a duration for dates and timestamps), dealt round-robin to
 *   `tasks` tasks (default 4).
 */
export type Partitioning =
  | { kind: "range"; column: string; step: number | Duration; tasks?: number }
  | { kind: "chunks"; column: string; count: number };

/** How many parallel tasks a partitioning runs. */
export function partitionTasks(partitioning: Partitioning): number {
  return partitioning.kind === "chunks" ? partitioning.count : partitioning.tasks ?? 4;
}

export interface IncrementalArgs {
  /**
   * Cursor column(s). A composite cursor orders rows that share a timestamp, so none is skipped or
   * loaded twice across runs. @example ["updated_at", "id"]
   */
  cursor: string | readonly string[];
  /** Re-read rows this far behind the checkpoint to catch late-arriving rows. @example "10 minutes" */
  lookBack?: Duration;
}

/**
 * How a bronze column is stored instead of its mapped type. `"text"`: the source's own text of the value
 * (for a column no type maps faithfully, such as a PostgreSQL `int[]` holding 2-D values).
 */
export type ColumnOverride = "text";

/** What every bronze stage takes, whatever its resource. */
export interface BronzeArgs {
  /** Stage name, also the view name models read. @default the resource's name */
  name?: string;
  /** Columns that identify a row; used for latest-per-key. @example ["id"] */
  primaryKey: string | readonly string[];
  /** Incremental extraction. Omit for a full load every run. @example { cursor: ["updated_at", "id"] } */
  incremental?: IncrementalArgs;
  /**
   * Rows deleted in the source. `"keyScan"` (incremental stages): after each load, the source's primary
   * keys are read and compared with bronze's; keys gone from the source get a tombstone, so the latest
   * row per key drops them. Costs one scan of the key columns per run.
   */
  deletes?: "keyScan";
  /** Per-column storage overrides. @example { int_matrix: "text" } */
  columns?: Readonly<Record<string, ColumnOverride>>;
  /** Split extraction into parallel tasks (Azure). @example { kind: "chunks", column: "id", count: 8 } */
  partitions?: Partitioning;
  /** Cron schedule (six fields, seconds first) when this stage loads more often than the pipeline. */
  schedule?: string;
  /**
   * Reconcile bronze with the source: the source's row count and a checksum over the key and cursor
   * columns (and `columns`) against bronze's latest rows, deletes applied (docs/reconciliation.md). Rows
   * changed or deleted behind the cursor, which an incremental load cannot see, show up as drift.
   * `"afterLoad"`: after every load. `{ schedule }`: with the first load at or after each time the
   * NCRONTAB schedule names. Recorded in the run record, shown in the report, sent as telemetry.
   * @example "afterLoad"
   * @example { schedule: "0 0 3 * * *", columns: ["status"] }
   */
  reconcile?: "afterLoad" | ReconcileArgs;
}

export interface ReconcileArgs {
  /** When: with the first load at or after each time this names. @default after every load */
  schedule?: string;
  /** Columns checked besides the key and the cursor. @example ["status", "total"] */
  columns?: string | readonly string[];
}

/** A bronze stage's reconciliation, normalised: when, and which columns the checksum covers besides key and cursor. */
export interface Reconcile {
  readonly schedule?: string;
  readonly columns: readonly string[];
}

export interface BronzeTableArgs extends BronzeArgs {
  /** Source table, schema-qualified. @example "public.orders" */
  table: string;
}

/** An endpoint of a REST source: what `bronze.endpoint` takes (see runtime/declare/rest.ts for each field). */
export interface BronzeEndpointArgs extends Omit<BronzeArgs, "incremental" | "deletes" | "partitions">,
  Pick<EndpointResource, "params" | "records" | "paginate" | "types" | "sample" | "parent"> {
  /** Relative to the source's `baseUrl`. @example "/orders" */
  path: string;
  paginate?: Paginator;
  /**
   * Incremental by a cursor field in the records. `param` asks the API for records changed since the
   * checkpoint (sent inclusive, less `lookBack`); whatever the API returns, only records after the
   * checkpoint are kept, so ties and a coarse filter lose and double nothing. `ordered`: the API returns
   * records in cursor order, so a killed load resumes after its last committed chunk.
   * @example { cursor: ["updated_at", "id"], param: "updated_since", ordered: true }
   */
  incremental?: IncrementalArgs & { param?: string; format?: SinceFormat; ordered?: boolean };
  /**
   * Deletes: `{ field, equals }` when the API returns deleted records marked by a field (a tombstone:
   * the latest row per key is then dropped by readers); `"keyScan"` to compare all keys each run.
   * @example { field: "deleted", equals: true }
   */
  deletes?: "keyScan" | { field: string; equals: JsonScalar };
}

/**
 * A file pattern of a file drop. Incremental by default: each new file is loaded once (a ledger of the
 * files loaded is committed with their rows); `load: "full"` reloads every matching file each run.
 */
export interface BronzeFilesArgs extends Omit<BronzeArgs, "incremental" | "deletes" | "partitions" | "name">, FilesResourceArgs {
  /** Stage name, also the view name models read. */
  name: string;
}

/**
 * A bronze table: one resource of a source (a table, an endpoint, a file pattern) loaded into append-only
 * Parquet batches with its checkpoint. One stage kind for every resource, so bronze has one run path;
 * the builders (`bronze.table`, …) are per resource so each takes exactly its resource's options.
 */
export interface BronzeTable {
  readonly kind: "bronze.table";
  readonly layer: "bronze";
  readonly name: string;
  readonly source: Source;
  /** What is read from the source. */
  readonly resource: Resource;
  readonly primaryKey: readonly string[];
  readonly incremental?: { cursor: readonly string[]; lookBack?: Duration };
  /** `"keyScan"`: keys gone from the source get tombstones; `"tombstone"`: the resource marks deleted records. */
  readonly deletes?: "keyScan" | "tombstone";
  readonly columns?: Readonly<Record<string, ColumnOverride>>;
  readonly partitions?: Partitioning;
  readonly schedule?: string;
  readonly reconcile?: Reconcile;
  /**
   * Where the stage was declared when that is not code a user can search for its name: a job sheet's row
   * (`jobs.xlsx: sheet "jobs", row 7`). A problem found while it runs names that place too.
   */
  readonly declaredAt?: string;
}

/** A TypeScript transform: reads its inputs (views named after them) and returns the result's SELECT. */
export type TransformFn = (con: DuckDBConnection, inputs: Readonly<Record<string, string>>) => Promise<string>;

export interface ModelArgs {
  /**
   * Inputs. One stage (its view is named after it) or an object whose keys are the view names.
   * A bronze input reads as the latest row per primary key; `<name>__history` holds every loaded row.
   * @example { orders, people }
   */
  from: Stage | Readonly<Record<string, Stage>>;
  /** SQL file path relative to the project root, or inline SQL (anything containing whitespace). */
  sql?: string;
  /** A TypeScript transform instead of SQL. */
  transform?: TransformFn;
  /** Quality checks run before the model is published. */
  checks?: readonly Check[];
  /** Columns that identify a row, for documentation and for `unique` checks downstream. */
  primaryKey?: string | readonly string[];
}

interface ModelStage {
  readonly name: string;
  readonly inputs: Readonly<Record<string, Stage>>;
  readonly sql?: string;
  readonly transform?: TransformFn;
  readonly checks: readonly Check[];
  readonly primaryKey?: readonly string[];
}

export interface SilverModel extends ModelStage {
  readonly kind: "silver.model";
  readonly layer: "silver";
}

export interface GoldModel extends ModelStage {
  readonly kind: "gold.model";
  readonly layer: "gold";
}

/** Probabilistic dedup of one input (see runtime/declare/dedup.ts for every option). */
export interface SilverDedup {
  readonly kind: "silver.dedup";
  readonly layer: "silver";
  readonly name: string;
  readonly inputs: Readonly<Record<string, Stage>>;
  /** The input whose records are deduplicated. */
  readonly from: Stage;
  readonly spec: DedupSpec;
}

export type Stage = BronzeTable | SilverModel | GoldModel | SilverDedup;
export type StageKind = Stage["kind"];

const list = (value: string | readonly string[]): readonly string[] => (typeof value === "string" ? [value] : [...value]);

function inputsOf(from: ModelArgs["from"]): Record<string, Stage> {
  if (isStage(from)) return { [from.name]: from };
  return { ...from };
}

export function isStage(value: unknown): value is Stage {
  return typeof value === "object" && value !== null && typeof (value as { kind?: unknown }).kind === "string" &&
    /^(bronze|silver|gold)\./.test((value as { kind: string }).kind);
}

function model(name: string, args: ModelArgs) {
  return {
    name,
    inputs: inputsOf(args.from),
    sql: args.sql,
    transform: args.transform,
    checks: args.checks ?? [],
    primaryKey: args.primaryKey === undefined ? undefined : list(args.primaryKey),
  };
}

/** The fields every bronze builder fills the same way. */
function bronzeStage(source: Source, resource: Resource, defaultName: string, args: BronzeArgs, deletes: BronzeTable["deletes"] = args.deletes): BronzeTable {
  return {
    kind: "bronze.table",
    layer: "bronze",
    name: args.name ?? defaultName,
    source,
    resource,
    primaryKey: list(args.primaryKey),
    incremental: args.incremental && { cursor: list(args.incremental.cursor), lookBack: args.incremental.lookBack },
    deletes,
    columns: args.columns,
    partitions: args.partitions,
    schedule: args.schedule,
    reconcile: args.reconcile === undefined ? undefined
      : args.reconcile === "afterLoad" ? { columns: [] }
      : { schedule: args.reconcile.schedule, columns: list(args.reconcile.columns ?? []) },
  };
}

export const bronze = {
  /** A table (or view) of a SQL source, pulled into append-only Parquet batches. */
  table(from: SqlSource, args: BronzeTableArgs): BronzeTable {
    const { table, ...rest } = args;
    return bronzeStage(from, { kind: "table", table }, table.split(".").pop()!.replace(/^"|"$/g, ""), rest);
  },
  /** An endpoint of a REST source (JSON records, paged), pulled into append-only Parquet batches. */
  endpoint(from: RestSource, args: BronzeEndpointArgs): BronzeTable {
    const { path, params, records, paginate, types, sample, parent, incremental, deletes, ...rest } = args;
    const tombstone = typeof deletes === "object" ? deletes : undefined;
    const resource: EndpointResource = {
      kind: "endpoint", path, params, records, paginate, types, sample, parent, tombstone,
      since: incremental?.param === undefined ? undefined : { param: incremental.param, format: incremental.format },
      ordered: incremental?.ordered,
    };
    // `/v1/orders` → orders; child records (`data[].lines`) → lines.
    const name = (records?.includes("[]") ? records : path).split(/[/.]/).filter(Boolean).pop()?.replace(/\[\]$/, "").replace(/[^A-Za-z0-9_]/g, "_") ?? "endpoint";
    return bronzeStage(from, resource, name, {
      ...rest,
      incremental: incremental && { cursor: incremental.cursor, lookBack: incremental.lookBack },
      deletes: tombstone ? undefined : deletes as "keyScan" | undefined,
    }, tombstone ? "tombstone" : undefined);
  },
  /** Files dropped in a folder (CSV, JSON lines, Parquet, Excel): each new file loaded exactly once. */
  files(from: FilesSource, args: BronzeFilesArgs): BronzeTable {
    const { name, primaryKey, columns, schedule, reconcile, ...resource } = args;
    return bronzeStage(from, filesResource(resource), name, { name, primaryKey, columns, schedule, reconcile });
  },
};

export const silver = {
  /** A SQL or TypeScript model over bronze or silver inputs, with quality checks. */
  model(name: string, args: ModelArgs): SilverModel {
    return { kind: "silver.model", layer: "silver", ...model(name, args) };
  },
  /**
   * Find records of one input that are the same entity (Fellegi–Sunter, as Splink), give each a stable
   * entity id, and publish the deduplicated table with its links and entities beside it.
   */
  dedup(name: string, args: SilverDedupArgs<Stage>): SilverDedup {
    const { from, ...spec } = args;
    return { kind: "silver.dedup", layer: "silver", name, inputs: { [from.name]: from }, from, spec };
  },
};

export const gold = {
  /** An aggregate or business metric, published atomically. */
  model(name: string, args: ModelArgs): GoldModel {
    return { kind: "gold.model", layer: "gold", ...model(name, args) };
  },
};
