// The conformance suite's contract with each source: a small adapter that creates a table, changes its
// rows (insert, update, delete, add a column) and reads them back through the source's own client, and
// builds the bronze stage that loads it. The scenarios (scenarios.ts) are the same for every source and
// compare bronze's latest rows with the source's, row for row, after every load.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bronze, pipeline, type BronzeTable } from "../../../../runtime/declare/index.ts";
import type { SqlSource } from "../../../../runtime/declare/sources.ts";
import type { Engine } from "../../../../runtime/engine/engine.ts";
import { queryRows } from "../../../../runtime/engine/engine.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { bronzeViews } from "../../../../runtime/stages/bronze-table/views.ts";
import type { scratchLake } from "../../../helpers/lake.ts";

/** A row of the scenarios' table `(id, updated_at, name, amount[, extra])`, as comparable text. */
export interface Row {
  readonly id: number;
  /** UTC, whole seconds: `2026-01-01 00:00:00`. */
  readonly updatedAt: string;
  readonly name: string | null;
  /** Two decimals: `12.50`. */
  readonly amount: string | null;
  /** The column the schema-change scenario adds (absent before). */
  readonly extra?: string | null;
}

export interface StageOptions {
  readonly name: string;
  /** Incremental on (updated_at, id); else a full load each run. */
  readonly incremental: boolean;
  readonly lookBack?: "1 hours";
  /** Declare the source's deletes (keyScan, or the tombstone field of an API). */
  readonly deletes?: boolean;
  readonly chunkRows: number;
}

/** One value of a type-map case: the source's literal and DuckDB's expected value, as SQL. */
export interface TypeCase {
  readonly column: string;
  /** The DuckDB type bronze must store it as. */
  readonly duckType: string;
  /** DuckDB SQL of the expected values, one per row in id order (NULL allowed). */
  readonly expected: readonly string[];
}

export interface TypeTable {
  readonly label: string;
  create(table: string): Promise<void>;
  readonly cases: readonly TypeCase[];
  stage(table: string): BronzeTable;
}

export interface ConformanceSource {
  readonly name: string;
  /** Why a scenario cannot run on this source (reported as skipped), by scenario. */
  readonly cannot?: Partial<Record<"incremental" | "lookBack" | "deletes" | "schemaChange", string>>;
  /** `items` with no rows: (id integer key, updated_at timestamp, name text, amount decimal(12,2)). */
  create(table: string): Promise<void>;
  insert(table: string, rows: readonly Row[]): Promise<void>;
  /** Replace rows by id. */
  update(table: string, rows: readonly Row[]): Promise<void>;
  remove(table: string, ids: readonly number[]): Promise<void>;
  /** Add the text column `extra` (NULL in existing rows). */
  addExtra(table: string): Promise<void>;
  /** The table's rows as the source holds them, read through its own client, by id. */
  sourceRows(table: string): Promise<Row[]>;
  stage(table: string, options: StageOptions): BronzeTable;
  /**
   * Every type of the source's type map: tables (one per file format for a file drop) whose rows hold them
   * (id 1, 2, …), and what bronze must hold.
   */
  readonly types: readonly TypeTable[];
  close(): Promise<void>;
}

export type Lake = Awaited<ReturnType<typeof scratchLake>>;

/** The scenarios' bronze stage over a SQL source's table: keyed by id, incremental on (updated_at, id) when asked. */
export function sqlScenarioStage(source: SqlSource, table: string, options: StageOptions): BronzeTable {
  return bronze.table(source, {
    table, name: options.name, primaryKey: "id",
    incremental: options.incremental ? { cursor: ["updated_at", "id"], lookBack: options.lookBack } : undefined,
    deletes: options.deletes ? "keyScan" : undefined,
  });
}

/** Run one stage through the local runner (`mallard run`'s path); its task record. */
export async function load(stage: BronzeTable, lake: Lake) {
  const record = await runLocal({
    pipeline: pipeline("conformance", { schedule: "0 0 * * * *", stages: [stage] }),
    lake: lake.lake, secrets: new SecretChain([]), projectRoot: process.cwd(),
  });
  return record.tasks[stage.name];
}

/** Rows as the scenarios compare them: sorted by id, `extra` only when asked. */
export function canonical(rows: readonly Row[], extra: boolean): Row[] {
  return [...rows].sort((a, b) => a.id - b.id).map((r) => ({
    id: r.id, updatedAt: r.updatedAt, name: r.name, amount: r.amount, ...(extra ? { extra: r.extra ?? null } : {}),
  }));
}

/** Bronze's latest rows as comparable text. */
export async function latestRows(engine: Engine, lake: Lake, stage: BronzeTable, extra: boolean): Promise<Row[]> {
  return engine.withConnection(async (con) => {
    await bronzeViews.register(con, lake.lake, "b", stage, { pipeline: "conformance", stage: "test" });
    const rows = await queryRows<{ id: bigint | number; updatedAt: string; name: string | null; amount: string | null; extra?: string | null }>(con,
      `SELECT id, strftime(updated_at::TIMESTAMP, '%Y-%m-%d %H:%M:%S') AS "updatedAt", name, CAST(amount AS DECIMAL(12,2))::VARCHAR AS amount` +
        `${extra ? ", extra" : ""} FROM b ORDER BY id`);
    return rows.map((r) => ({ id: Number(r.id), updatedAt: r.updatedAt, name: r.name, amount: r.amount, ...(extra ? { extra: r.extra ?? null } : {}) }));
  });
}

/** Row versions in `__history` and how many of them are distinct: equal when nothing was loaded twice. */
export async function historyVersions(engine: Engine, lake: Lake, stage: BronzeTable): Promise<{ rows: number; distinct: number }> {
  return engine.withConnection(async (con) => {
    await bronzeViews.register(con, lake.lake, "b", stage, { pipeline: "conformance", stage: "test" });
    const [r] = await queryRows<{ rows: bigint; distinct: bigint }>(con, `SELECT count(*) AS rows, count(DISTINCT (id, updated_at)) AS distinct FROM b__history`);
    return { rows: Number(r.rows), distinct: Number(r.distinct) };
  });
}

/**
 * Run the stage in a child process that SIGKILLs itself at `crashAt` (a fault point). Asynchronous: the
 * source may be served by this process (a REST API), which must keep answering while the child runs.
 */
export async function crashedLoad(stage: BronzeTable, lake: Lake, crashAt: string): Promise<void> {
  const declaration = join(lake.dir, `stage-${stage.name}.json`);
  await writeFile(declaration, JSON.stringify(stage));
  const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/conformance-child.ts", lake.dir, declaration], {
    env: { ...process.env, MALLARD_CRASH_AT: crashAt }, stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  if (signal !== "SIGKILL") throw new Error(`the child was not killed at ${crashAt} (exit ${code}): ${stderr}`);
}

/** `count` rows from id `from`, sharing `times` distinct whole-minute timestamps (ties across every chunk edge). */
export function rowsOf(from: number, count: number, options: { times?: number; day?: string; name?: string } = {}): Row[] {
  const times = options.times ?? 5;
  return Array.from({ length: count }, (_, i) => {
    const id = from + i;
    return { id, updatedAt: `${options.day ?? "2026-01-01"} 00:0${id % times}:00`, name: options.name ? `${options.name} ${id}` : `row ${id}`, amount: `${(id * 1.5).toFixed(2)}` };
  });
}
