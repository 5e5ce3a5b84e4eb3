// The PostgreSQL source connector: discover a table from pg_catalog, and read it with
// `COPY (SELECT …) TO STDOUT (FORMAT csv)` inside one REPEATABLE READ snapshot, streamed through the
// CSV-to-Parquet chunk pipeline. Works against anything speaking the wire protocol and COPY (PGlite too).

import type pg from "pg";
import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../../engine/sql.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { type ChunkCodec, csvToParquetChunks, DEFAULT_MAX_ROW_BYTES } from "../csv/chunks.ts";
import { defaultStaging, type StagingMode } from "../csv/staging.ts";
import { columnOf, cursorPosition } from "../incremental.ts";
import type { Chunk, CursorPosition, Partitioner, ReadRequest, ResourceSchema, SourceConnector, SplitRequest } from "../source.ts";
import { buildSelect } from "../sql/select.ts";
import { describeTable } from "./catalog.ts";
import { closeClient, connect, destroySocket, describeTarget, reason, sourceErrors } from "./connect.ts";
import { copyOut } from "./copy-out.ts";
import { POSTGRES_SQL, refuseCursor } from "./query.ts";
import { duckConversion } from "./types.ts";

export interface PostgresConnectorOptions {
  /** The declared source's name, for messages. @example "shop" */
  readonly name?: string;
  /** Parquet codec of extracted chunks (see docs/extraction.md for the measurement). @default "zstd" */
  readonly codec?: ChunkCodec;
  /** Codec level (zstd). @default 1 with zstd */
  readonly compressionLevel?: number;
  /** How chunks reach DuckDB. @default "fifo" (named pipes), "files" on Windows */
  readonly staging?: StagingMode;
  /** Largest row, as CSV text; a bigger row fails the load with DuckDB's "maximum line size" error. @default 8 MiB */
  readonly maxRowBytes?: number;
  /** `application_name` the source's pg_stat_activity shows. @default "mallard" */
  readonly applicationName?: string;
}

/** Bronze's Parquet codec and level: see docs/extraction.md ("Codec"). */
export const BRONZE_CODEC: { readonly codec: ChunkCodec; readonly level?: number } = { codec: "zstd", level: 1 };

/** A connector for the PostgreSQL database at `url` (a connection string; it never appears in messages). */
export function createPostgresConnector(url: string, options: PostgresConnectorOptions = {}): PostgresConnector {
  return new PostgresConnector(url, options);
}

export class PostgresConnector implements SourceConnector {
  /** The source for messages: its name and `postgres://user@host:port/db`, never the password. */
  readonly where: string;
  readonly partitioner: Partitioner = {
    splitPoints: (schema, column, split) => this.splitPoints(schema, column, split),
    cursorMax: (schema, columns) => this.cursorMax(schema, columns),
  };
  readonly refuseCursor = refuseCursor;
  private metadata: Promise<pg.Client> | undefined;

  constructor(
    private readonly url: string,
    private readonly options: PostgresConnectorOptions = {},
  ) {
    this.where = options.name ? `source "${options.name}" at ${describeTarget(url)}` : describeTarget(url);
  }

  async discover(resource: Resource): Promise<ResourceSchema> {
    if (resource.kind !== "table") throw new ConfigError([`PostgreSQL ${this.where} serves tables, not ${resource.kind}s`]);
    const client = await this.client();
    return sourceErrors(`describing table ${resource.table} in PostgreSQL ${this.where}`, () => describeTable(client, resource.table, this.where));
  }

  /** Min and max of a column as PostgreSQL text. */
  async bounds(schema: ResourceSchema, column: string): Promise<{ min: string | null; max: string | null }> {
    const name = quoteIdent(columnOf(schema, column, "partitions.column").name);
    const client = await this.client();
    return sourceErrors(`bounds of ${schema.label}.${name}`, async () => {
      const result = await client.query<{ min: string | null; max: string | null }>(
        `SELECT min(${name})::text AS min, max(${name})::text AS max FROM ${quoteQualified(schema.address)}`,
      );
      return result.rows[0];
    });
  }

  private async splitPoints(schema: ResourceSchema, column: string, split: SplitRequest): Promise<string[]> {
    const col = columnOf(schema, column, "partitions.column");
    const client = await this.client();
    const name = quoteIdent(col.name);
    const table = quoteQualified(schema.address);
    const type = col.duckType;
    const timeLike = type === "TIMESTAMP" || type === "TIMESTAMPTZ";
    let points: string;
    if ("count" in split) {
      const n = Math.floor(split.count);
      // Integers and dates cut on whole values; timestamps scale the interval; numerics divide exactly.
      const cut = /INT$/.test(type) ? `lo + ((hi - lo)::numeric * k / ${n})::bigint`
        : type === "DATE" ? `lo + ((hi - lo) * k / ${n})`
        : timeLike ? `lo + (hi - lo) * (k::float8 / ${n})`
        : `lo + (hi - lo) * k / ${n}`;
      points = `SELECT DISTINCT (${cut})::${col.sourceType.replace(/\[\]$/, "")} AS p FROM bounds, generate_series(1, ${n - 1}) AS k WHERE lo < hi`;
    } else {
      const step = typeof split.step === "number" ? String(split.step) : `CAST(${quoteLiteral(split.step)} AS interval)`;
      const series = type === "DATE" ? `generate_series(lo::timestamp + ${step}, hi::timestamp, ${step})::date` : `generate_series(lo + ${step}, hi, ${step})`;
      points = `SELECT ${series} AS p FROM bounds`;
    }
    return sourceErrors(`partition boundaries of ${table}.${name}`, async () => {
      const result = await client.query<{ p: string }>(
        `WITH bounds AS (SELECT min(${name}) AS lo, max(${name}) AS hi FROM ${table}) SELECT p::text AS p FROM (${points}) AS points ORDER BY points.p LIMIT 10001`,
      );
      if (result.rows.length > 10_000) throw new SourceError(`partitions: ${table}.${name} splits into more than 10,000 ranges; use a larger step`);
      return result.rows.map((r) => r.p);
    });
  }

  private async cursorMax(schema: ResourceSchema, columns: readonly string[]): Promise<CursorPosition | undefined> {
    const names = columns.map((c) => quoteIdent(columnOf(schema, c, "incremental.cursor").name));
    const client = await this.client();
    const table = quoteQualified(schema.address);
    return sourceErrors(`newest cursor of ${table}`, async () => {
      const result = await client.query({
        // Aliased, so ORDER BY sorts the columns themselves and not their text.
        text: `SELECT ${names.map((n, i) => `${n}::text AS c${i}`).join(", ")} FROM ${table} WHERE ${names.map((n) => `${n} IS NOT NULL`).join(" AND ")} ` +
          `ORDER BY ${names.map((n) => `${n} DESC`).join(", ")} LIMIT 1`,
        rowMode: "array",
      });
      const row = result.rows[0] as (string | null)[] | undefined;
      return row ? { columns: [...columns], values: row } : undefined;
    });
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    if (!Number.isInteger(request.chunkRows) || request.chunkRows < 1) {
      throw new SourceError(`chunkRows must be a positive whole number (got ${request.chunkRows})`);
    }
    const query = buildSelect(request, POSTGRES_SQL);
    const client = await connect(this.url, this.options.applicationName);
    let clean = false;
    try {
      // One snapshot for the whole load, however many chunks it has. READ ONLY lets PostgreSQL skip SSI work.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const blocks = copyOut(client, `COPY (${query.sql}) TO STDOUT (FORMAT csv)`, {
        groupRows: request.chunkRows,
        keepLastRow: request.slice !== undefined,
        maxRowBytes: this.options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES,
      });
      const codec = this.options.codec ?? BRONZE_CODEC.codec;
      const chunks = csvToParquetChunks(blocks, engine, {
        workDir: request.workDir,
        fieldCount: query.columns.length,
        selectList: query.columns.map((c, i) => `${duckConversion(`c${i}`, c.duckType)} AS ${quoteIdent(c.name)}`).join(", "),
        codec,
        compressionLevel: this.options.compressionLevel ?? (codec === BRONZE_CODEC.codec ? BRONZE_CODEC.level : undefined),
        staging: this.options.staging ?? defaultStaging,
        maxRowBytes: this.options.maxRowBytes,
        stopSource: () => destroySocket(client),
      });
      for await (const chunk of chunks) {
        const { slice } = request;
        yield {
          file: chunk.file,
          rows: chunk.rows,
          bytes: chunk.bytes,
          lastCursor: slice && chunk.lastRow ? cursorPosition(slice, query.cursorIndexes.map((i) => chunk.lastRow![i] ?? null)) : undefined,
        };
      }
      await client.query("COMMIT");
      clean = true;
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`extracting ${request.schema.label} from PostgreSQL ${this.where}: ${reason(error)}`);
    } finally {
      await closeClient(client, { force: !clean });
    }
  }

  async close(): Promise<void> {
    const pending = this.metadata;
    this.metadata = undefined;
    const client = await pending?.catch(() => undefined);
    if (client) await closeClient(client);
  }

  /** The shared client for catalog queries, connected on first use. */
  private async client(): Promise<pg.Client> {
    this.metadata ??= connect(this.url, this.options.applicationName);
    try {
      return await this.metadata;
    } catch (error) {
      this.metadata = undefined;
      throw error;
    }
  }
}
