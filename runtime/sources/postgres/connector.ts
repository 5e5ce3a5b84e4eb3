// The PostgreSQL source connector: discover a table from pg_catalog, and read it with
// `COPY (SELECT …) TO STDOUT` inside one REPEATABLE READ snapshot: in binary form decoded straight into
// DuckDB vectors (the default), or as CSV through the CSV-to-Parquet chunk pipeline (`wire: "csv"`).
// Works against anything speaking the wire protocol and COPY (PGlite too).

import type pg from "pg";
import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../../engine/sql.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { BRONZE_CODEC, type ChunkCodec, type CsvBlock, csvToParquetChunks, DEFAULT_MAX_ROW_BYTES, type ParquetLayout } from "../csv/chunks.ts";
import { defaultStaging, type StagingMode } from "../csv/staging.ts";
import { columnOf, cursorPosition } from "../incremental.ts";
import { POSTGRES_CHECKSUM } from "../../reconcile/canonical.ts";
import type { ChecksumRequest, Chunk, CursorPosition, Partitioner, ReadRequest, ResourceSchema, SourceChecksum, SourceColumn, SourceConnector, SplitRequest } from "../source.ts";
import { buildChecksumSelect } from "../sql/checksum.ts";
import { buildSelect } from "../sql/select.ts";
import { describeTable } from "./catalog.ts";
import { closeClient, connect, destroySocket, describeTarget, reason, sourceErrors } from "./connect.ts";
import { appendToParquetChunks } from "../append/parquet-chunks.ts";
import { BinaryCopyParser } from "./binary-copy.ts";
import { columnWire, outputText } from "./binary-wire.ts";
import { copyMessages, copyOut } from "./copy-out.ts";
import { POSTGRES_SQL, refuseCursor } from "./query.ts";
import { duckConversion } from "./types.ts";

export interface PostgresConnectorOptions {
  /** The declared source's name, for messages. @example "shop" */
  readonly name?: string;
  /** Parquet codec of extracted chunks (see docs/extraction.md for the measurement). @default "zstd" */
  readonly codec?: ChunkCodec;
  /** Codec level (zstd). @default 1 with zstd */
  readonly compressionLevel?: number;
  /** Rows per Parquet row group of a chunk (measured in docs/extraction.md). @default 122880 */
  readonly rowGroupRows?: number;
  /** Page version and dictionaries of extracted chunks. @default BRONZE_LAYOUT (v2 pages, no dictionaries) */
  readonly parquetLayout?: ParquetLayout;
  /**
   * How rows travel: `binary` (COPY's binary form decoded into DuckDB vectors) or `csv` (COPY CSV read by
   * DuckDB's CSV reader). Measured in docs/extraction.md. @default "binary"
   */
  readonly wire?: "binary" | "csv";
  /** With `wire: "csv"`: how chunks reach DuckDB. @default "fifo" (named pipes), "files" on Windows */
  readonly staging?: StagingMode;
  /** With `wire: "csv"`: largest row, as CSV text; a bigger row fails the load with DuckDB's "maximum line size" error. @default 8 MiB */
  readonly maxRowBytes?: number;
  /** `application_name` the source's pg_stat_activity shows. @default "mallard" */
  readonly applicationName?: string;
  /** How long opening a connection may take. @default the URL's `connect_timeout`, else 30 s */
  readonly connectTimeoutMs?: number;
}

/** Rows a quantile split samples: enough for ranges within a few percent of each other, cheap on any table. */
const SAMPLE_ROWS = 100_000;


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
    if ("count" in split) return this.quantiles(schema, col.name, Math.floor(split.count));
    const step = typeof split.step === "number" ? String(split.step) : `CAST(${quoteLiteral(split.step)} AS interval)`;
    const series = type === "DATE" ? `generate_series(lo::timestamp + ${step}, hi::timestamp, ${step})::date` : `generate_series(lo + ${step}, hi, ${step})`;
    return sourceErrors(`partition boundaries of ${table}.${name}`, async () => {
      const result = await client.query<{ p: string }>(
        `WITH bounds AS (SELECT min(${name}) AS lo, max(${name}) AS hi FROM ${table}) SELECT p::text AS p FROM (SELECT ${series} AS p FROM bounds) AS points ORDER BY points.p LIMIT 10001`,
      );
      if (result.rows.length > 10_000) throw new SourceError(`partitions: ${table}.${name} splits into more than 10,000 ranges; use a larger step`);
      return result.rows.map((r) => r.p);
    });
  }

  /**
   * `count` ranges of similar row counts: the key's quantiles, from a sample of about SAMPLE_ROWS rows
   * (whole pages, TABLESAMPLE SYSTEM) of a big table or from every row of a small one or a view. Equal
   * widths between min and max put nearly every row of a skewed key in one range, and `hi - lo` overflows
   * a key spanning its type's whole range.
   */
  private async quantiles(schema: ResourceSchema, column: string, count: number): Promise<string[]> {
    if (count < 2) return [];
    const client = await this.client();
    const name = quoteIdent(column);
    const table = quoteQualified(schema.address);
    return sourceErrors(`partition boundaries of ${table}.${name}`, async () => {
      const size = await client.query<{ rows: number; kind: string }>(
        "SELECT reltuples::float8 AS rows, relkind AS kind FROM pg_catalog.pg_class WHERE oid = to_regclass($1)", [table],
      );
      const { rows, kind } = size.rows[0] ?? { rows: -1, kind: "v" };
      const sampled = (kind === "r" || kind === "m") && rows > SAMPLE_ROWS;
      const from = sampled ? `${table} TABLESAMPLE SYSTEM (${((100 * SAMPLE_ROWS) / rows).toFixed(6)})` : table;
      const fractions = Array.from({ length: count - 1 }, (_, k) => ((k + 1) / count).toFixed(9)).join(", ");
      const result = await client.query<{ p: string }>(
        `SELECT p::text AS p FROM (SELECT DISTINCT unnest(percentile_disc(ARRAY[${fractions}]::float8[]) WITHIN GROUP (ORDER BY ${name})) AS p ` +
          `FROM ${from} WHERE ${name} IS NOT NULL) AS points ORDER BY points.p`,
      );
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

  /** pg_class.reltuples (kept by VACUUM and ANALYZE); undefined for a table never analysed, a view, or an unknown name. */
  async estimateRows(schema: ResourceSchema): Promise<number | undefined> {
    const client = await this.client();
    return sourceErrors(`row estimate of ${schema.label}`, async () => {
      const result = await client.query<{ rows: number }>("SELECT reltuples::float8 AS rows FROM pg_catalog.pg_class WHERE oid = to_regclass($1)", [quoteQualified(schema.address)]);
      const rows = result.rows[0]?.rows;
      return rows !== undefined && rows >= 0 ? Math.round(rows) : undefined;
    });
  }

  /** The reconciliation checksum, computed by PostgreSQL (one row back). */
  async checksum(request: ChecksumRequest): Promise<SourceChecksum> {
    const sql = buildChecksumSelect(request, POSTGRES_SQL, POSTGRES_CHECKSUM);
    const client = await this.client();
    return sourceErrors(`checksum of ${request.schema.label}`, async () => {
      const result = await client.query<{ row_count: string; hash_sum: string }>(sql);
      return { rows: Number(result.rows[0].row_count), sum: result.rows[0].hash_sum };
    });
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    if (!Number.isInteger(request.chunkRows) || request.chunkRows < 1) {
      throw new SourceError(`chunkRows must be a positive whole number (got ${request.chunkRows})`);
    }
    const binary = (this.options.wire ?? "binary") === "binary";
    if (binary) engine.prepareParquetEncoder();
    const client = await connect(this.url, { applicationName: this.options.applicationName, source: this.options.name, connectTimeoutMs: this.options.connectTimeoutMs });
    let clean = false;
    try {
      // One snapshot for the whole load, however many chunks it has. READ ONLY lets PostgreSQL skip SSI work.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const read = binary ? this.readBinary(client, request, engine) : this.readCsv(client, request, engine);
      const { slice } = request;
      for await (const chunk of read.chunks) {
        yield {
          file: chunk.file,
          rows: chunk.rows,
          bytes: chunk.bytes,
          lastCursor: slice && chunk.lastRow ? cursorPosition(slice, read.cursorValues(chunk.lastRow)) : undefined,
        };
      }
      if (read.nonFinite()) {
        const warnings = await nonFiniteWarnings(client, read.sql, read.decimals);
        if (warnings.length) yield { file: "", rows: 0, bytes: 0, warnings };
      }
      await client.query("COMMIT");
      clean = true;
    } catch (error) {
      if (error instanceof SourceError) throw error;
      // A value no mapped type holds (see multiDimensional): DuckDB's error() text is the whole message.
      const refused = /Invalid Input Error: (column "[^\n]*)/.exec(reason(error));
      throw new SourceError(`extracting ${request.schema.label} from PostgreSQL ${this.where}: ${refused ? refused[1] : reason(error)}`);
    } finally {
      await closeClient(client, { force: !clean });
    }
  }

  /**
   * `COPY … (FORMAT binary)` decoded into DuckDB vectors and appended (binary-copy.ts): the default, the
   * cheaper path for the server and for Mallard (docs/extraction.md). Cursor columns travel a second time,
   * as text, so each chunk's checkpoint is PostgreSQL's own text of its last row.
   */
  private readBinary(client: pg.Client, request: ReadRequest, engine: Engine): ChunkRead {
    const columns = request.columns ? request.columns.map((name) => columnOf(request.schema, name, "columns")) : request.schema.columns;
    const wires = columns.map(columnWire);
    const cursorTexts = (request.slice?.columns ?? []).map((c, i) => `${outputText(quoteIdent(c.name))} AS ${quoteIdent(`mallard cursor ${i}`)}`);
    const query = buildSelect(request, { ...POSTGRES_SQL, selectExpression: (c) => columnWire(c).pgExpression }, cursorTexts);
    const parser = new BinaryCopyParser(wires, { groupRows: request.chunkRows, cursorFields: cursorTexts.length });
    const codec = this.options.codec ?? BRONZE_CODEC.codec;
    const chunks = appendToParquetChunks(copyMessages(client, `COPY (${query.sql}) TO STDOUT (FORMAT binary)`, parser), engine, {
      workDir: request.workDir,
      stageTypes: wires.map((w) => w.stageType),
      widths: wires.map((w) => w.width),
      selectList: wires.map((w, i) => `${w.conversion(`c${i}`)} AS ${quoteIdent(query.columns[i].name)}`).join(", "),
      codec,
      compressionLevel: this.options.compressionLevel ?? (codec === BRONZE_CODEC.codec ? BRONZE_CODEC.level : undefined),
      rowGroupRows: this.options.rowGroupRows,
      layout: this.options.parquetLayout,
      stopSource: () => destroySocket(client),
      onRows: request.onRows,
    });
    return {
      chunks,
      sql: query.sql,
      decimals: scalarDecimals(query.columns),
      nonFinite: () => parser.nonFinite,
      cursorValues: (lastRow) => [...lastRow],
    };
  }

  /** `COPY … (FORMAT csv)` through DuckDB's CSV reader (csv/chunks.ts): `wire: "csv"`. */
  private readCsv(client: pg.Client, request: ReadRequest, engine: Engine): ChunkRead {
    const query = buildSelect(request, POSTGRES_SQL);
    const blocks = copyOut(client, `COPY (${query.sql}) TO STDOUT (FORMAT csv)`, {
      groupRows: request.chunkRows,
      keepLastRow: request.slice !== undefined,
      maxRowBytes: this.options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES,
    });
    const codec = this.options.codec ?? BRONZE_CODEC.codec;
    // A numeric(p,s) NaN is stored as NULL (a DECIMAL has none; a typmod'd numeric holds no infinity).
    // Spotting "NaN" in a block costs a byte search; only then is the snapshot counted, for the run record.
    const decimals = scalarDecimals(query.columns);
    const spotted = { nonFinite: false };
    const chunks = csvToParquetChunks(decimals.length ? spotNonFinite(blocks, spotted) : blocks, engine, {
      workDir: request.workDir,
      fieldCount: query.columns.length,
      selectList: query.columns.map((c, i) => `${duckConversion(`c${i}`, c.duckType, c)} AS ${quoteIdent(c.name)}`).join(", "),
      codec,
      compressionLevel: this.options.compressionLevel ?? (codec === BRONZE_CODEC.codec ? BRONZE_CODEC.level : undefined),
      staging: this.options.staging ?? defaultStaging,
      maxRowBytes: this.options.maxRowBytes,
      rowGroupRows: this.options.rowGroupRows,
      layout: this.options.parquetLayout,
      stopSource: () => destroySocket(client),
      onRows: request.onRows,
    });
    return {
      chunks,
      sql: query.sql,
      decimals,
      nonFinite: () => spotted.nonFinite,
      cursorValues: (lastRow) => query.cursorIndexes.map((i) => lastRow[i] ?? null),
    };
  }

  async close(): Promise<void> {
    const pending = this.metadata;
    this.metadata = undefined;
    const client = await pending?.catch(() => undefined);
    if (client) await closeClient(client);
  }

  /** The shared client for catalog queries, connected on first use. */
  private async client(): Promise<pg.Client> {
    this.metadata ??= connect(this.url, { applicationName: this.options.applicationName, source: this.options.name, connectTimeoutMs: this.options.connectTimeoutMs });
    try {
      return await this.metadata;
    } catch (error) {
      this.metadata = undefined;
      throw error;
    }
  }
}

/** One extraction's chunks and what the connector needs around them. */
interface ChunkRead {
  readonly chunks: AsyncIterable<{ file: string; rows: number; bytes: number; lastRow?: readonly (string | null)[] }>;
  /** The SELECT the COPY ran (for counting NaN values in the same snapshot). */
  readonly sql: string;
  readonly decimals: readonly SourceColumn[];
  /** Whether a DECIMAL column held NaN or ±Infinity (known once the chunks are read). */
  nonFinite(): boolean;
  /** The cursor columns' values among a chunk's kept last row. */
  cursorValues(lastRow: readonly (string | null)[]): (string | null)[];
}

/** Scalar numeric(p,s) columns stored as DECIMAL: where NaN and ±Infinity become NULL. An array's elements are no column of the read. */
function scalarDecimals(columns: readonly SourceColumn[]): SourceColumn[] {
  return columns.filter((c) => !c.asText && /^DECIMAL\(\d+,\s*\d+\)$/.test(c.duckType));
}

/** The blocks unchanged; `spotted.nonFinite` once one holds the text `NaN`. */
async function* spotNonFinite(blocks: AsyncIterable<CsvBlock>, spotted: { nonFinite: boolean }): AsyncGenerator<CsvBlock> {
  for await (const block of blocks) {
    if (!spotted.nonFinite && block.data.indexOf("NaN") !== -1) spotted.nonFinite = true;
    yield block;
  }
}

/** `column "amount" (numeric(12,2)): 2 NaN values stored as NULL`, per column, counted in the read's snapshot. */
async function nonFiniteWarnings(client: pg.Client, select: string, decimals: readonly SourceColumn[]): Promise<string[]> {
  const counts = decimals.map((c, i) => `count(*) FILTER (WHERE ${quoteIdent(c.name)} = 'NaN') AS n${i}`);
  const result = await client.query<Record<string, string>>(`SELECT ${counts.join(", ")} FROM (${select}) AS read`);
  const row = result.rows[0] ?? {};
  return decimals.flatMap((c, i) => {
    const n = Number(row[`n${i}`] ?? 0);
    return n ? [`column "${c.name}" (${c.sourceType}): ${n.toLocaleString("en-US")} NaN value${n === 1 ? "" : "s"} stored as NULL`] : [];
  });
}
