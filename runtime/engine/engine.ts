// The DuckDB engine: one in-process instance per run (or function instance), with its memory limit,
// threads and spill folder set from the pipeline's engine settings, locked down (sandbox.ts) before any
// SQL runs: it reaches its work folder and the folders it was given, and nothing else.

import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { EngineSettings } from "../declare/pipeline.ts";
import { duckdbMemoryLimit } from "./memory.ts";
import type { ParquetEncoder } from "./parquet-encoder/encoder.ts";
import { EncoderPool } from "./parquet-encoder/pool.ts";
import { type EngineAccess, lockDown, lockDownStatements } from "./sandbox.ts";
import { quoteLiteral } from "./sql.ts";

export { type EngineAccess, lakeAccess } from "./sandbox.ts";

/** DuckDB's memory in each Parquet encoder: a row group being written and the vectors coming in. */
const ENCODER_MEMORY = "256MB";

export class Engine {
  /** Parquet encoders in worker threads (parquet-encoder/), started on first use; they reach only the work folder. */
  private readonly encoders: EncoderPool;

  private constructor(
    private readonly instance: DuckDBInstance,
    /** Scratch folder for this engine: spills, staged inputs, outputs before upload. */
    readonly workDir: string,
    private readonly ownsWorkDir: boolean,
  ) {
    this.encoders = new EncoderPool((n) => ({
      memoryLimit: ENCODER_MEMORY,
      tempDirectory: join(workDir, `spill-encoder-${n}`),
      setup: ["SET GLOBAL TimeZone = 'UTC'", ...lockDownStatements(workDir, {})],
    }));
  }

  /**
   * A locked-down engine: besides its work folder it reaches only `access` (for a run, `lakeAccess(lake)`:
   * the lake's table folders). Give it nothing more than the SQL it runs needs.
   */
  static async create(settings: EngineSettings = {}, access: EngineAccess = {}): Promise<Engine> {
    const workDir = settings.tempDirectory ?? (await mkdtemp(join(tmpdir(), "mallard-")));
    // memoryLimit is the whole engine's budget; DuckDB's buffer pool gets it less a reserve (memory.ts).
    const memory = duckdbMemoryLimit(settings.memoryLimit ?? "1GB");
    const instance = await openInstance(memory, settings.threads ?? availableParallelism(), join(workDir, "spill"), workDir, access);
    return new Engine(instance, workDir, settings.tempDirectory === undefined);
  }

  /** A new connection; close it when done. Connections share the instance's memory budget. */
  async connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  /**
   * A Parquet encoder: a single-threaded DuckDB in a worker thread, fed rows decoded in JavaScript one
   * vector at a time (bronze's binary extraction). It writes while the rows arrive, beside the decoding
   * rather than after it; a second DuckDB thread found no work to share there and cost 15–30 % more CPU
   * (docs/extraction.md). Give it back with `releaseParquetEncoder`.
   */
  acquireParquetEncoder(): Promise<ParquetEncoder> {
    return this.encoders.acquire();
  }

  /** Start an encoder for an `acquireParquetEncoder` to come, so its thread starts while the caller connects. */
  prepareParquetEncoder(): void {
    this.encoders.prepare();
  }

  releaseParquetEncoder(encoder: ParquetEncoder): Promise<void> {
    return this.encoders.release(encoder);
  }

  /** Run `body` with a fresh connection that is closed afterwards, whatever happens. */
  async withConnection<T>(body: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    const con = await this.connect();
    try {
      return await body(con);
    } finally {
      con.closeSync();
    }
  }

  async close(): Promise<void> {
    this.instance.closeSync();
    await this.encoders.close();
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }
}

/** An in-memory DuckDB locked down (sandbox.ts) to `workDir` and `access` before any SQL runs. */
async function openInstance(memoryLimit: string, threads: number, spill: string, workDir: string, access: EngineAccess): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(":memory:", {
    memory_limit: memoryLimit,
    threads: String(threads),
    temp_directory: spill,
    // Results must not depend on thread scheduling (stable ids, reproducible files).
    preserve_insertion_order: "true",
  });
  try {
    const con = await instance.connect();
    try {
      // For the instance, not a connection: none can change it once the configuration is locked.
      await con.run("SET GLOBAL TimeZone = 'UTC'");
      await lockDown(con, workDir, access);
    } finally {
      con.closeSync();
    }
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  return instance;
}

/** Rows of a query as plain objects (small results only: counts, check results, metadata). */
export async function queryRows<T = Record<string, unknown>>(con: DuckDBConnection, sql: string): Promise<T[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as T[];
}

/** Write the result of a query to a Parquet file with Mallard's codec choice for the layer. */
export async function copyToParquet(con: DuckDBConnection, query: string, file: string, codec: ParquetCodec = "zstd"): Promise<void> {
  await con.run(`COPY (${query}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 122880)`);
}

/**
 * The engine's work folder, from a connection: the one folder (besides those it was given) a locked-down
 * engine may write, so a helper that has only the connection writes its temporary files there.
 */
export async function workDirOf(con: DuckDBConnection): Promise<string> {
  const [{ t }] = await queryRows<{ t: string }>(con, "SELECT current_setting('temp_directory') AS t");
  return dirname(t);
}

export type ParquetCodec = "zstd" | "snappy" | "uncompressed";
