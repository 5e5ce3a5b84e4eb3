// The SQL Server / Azure SQL source connector: discover a table from sys.columns, and read it with one
// SELECT (statement-consistent; Azure SQL's default read-committed snapshot never blocks writers), every
// value the server's exact text, streamed into the shared CSV-to-Parquet chunk pipeline.

import type { ConnectionPool } from "mssql";
import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { DEFAULT_MAX_ROW_BYTES } from "../csv/chunks.ts";
import { columnOf } from "../incremental.ts";
import type { Chunk, CursorPosition, Partitioner, ReadRequest, ResourceSchema, SourceColumn, SourceConnector, SplitRequest } from "../source.ts";
import { driverErrors, driverText } from "../driver-errors.ts";
import { requireChunkRows, rowChunks } from "../sql/chunks.ts";
import { buildSelect } from "../sql/select.ts";
import { quantilePoints, SAMPLE_ROWS, stepPoints } from "../sql/split.ts";
import { entraCredential, mssqlConfig, type MssqlTarget, parseMssqlTarget } from "./connect.ts";
import { parseMssqlTable, quoteMssqlQualified } from "./identifiers.ts";
import { MSSQL_SQL, mssqlString } from "./query.ts";
import { boundsSql, cursorMaxSql, rowCountSql, sampleSql } from "./split.ts";
import { mssqlBlocks } from "./stream.ts";
import { type MssqlColumnInfo, mssqlDuckType, mssqlSelectList, mssqlTypeName, refuseCursor } from "./types.ts";

/** tedious's messages, redacted and without quoted rows, like every database source's. */
const mssqlErrors = driverErrors((error) => driverText(error instanceof Error ? error.message : String(error)));

export interface MssqlConnectorOptions {
  /** The declared source's name, for messages. */
  readonly name?: string;
  /** Largest row, as CSV text. @default 8 MiB */
  readonly maxRowBytes?: number;
}

/** The catalog query: each column's base type (an alias type reads as the type it is made of). */
export function columnsSql(address: readonly string[]): string {
  return `SELECT c.name, TYPE_NAME(c.system_type_id) AS type, c.max_length, c.precision, c.scale, c.is_nullable ` +
    `FROM sys.columns c WHERE c.object_id = OBJECT_ID(${mssqlString(quoteMssqlQualified(address))}) ORDER BY c.column_id`;
}

/** Bronze columns of a table as the catalog describes them; a type with no DuckDB counterpart is refused, naming the column. */
export function columnsOf(rows: readonly MssqlColumnInfo[], label: string): SourceColumn[] {
  return rows.map((row) => {
    const duckType = mssqlDuckType(row);
    const sourceType = mssqlTypeName(row);
    if (!duckType) throw new SourceError(`${label}: column "${row.name}" has type ${sourceType}, which Mallard does not read; store it as text with columns: { "${row.name}": "text" }`);
    return { name: row.name, sourceType, duckType, nullable: row.nullable };
  });
}

export function createMssqlConnector(connection: string, options: MssqlConnectorOptions = {}): MssqlConnector {
  return new MssqlConnector(parseMssqlTarget(connection), options);
}

export class MssqlConnector implements SourceConnector {
  readonly where: string;
  readonly refuseCursor = refuseCursor;
  readonly partitioner: Partitioner = {
    splitPoints: (schema, column, split) => this.splitPoints(schema, column, split),
    cursorMax: (schema, columns) => this.cursorMax(schema, columns),
  };
  private pool: Promise<ConnectionPool> | undefined;

  constructor(private readonly target: MssqlTarget, private readonly options: MssqlConnectorOptions = {}) {
    this.where = `SQL Server ${options.name ? `source "${options.name}" at ` : ""}${target.description}`;
  }

  async discover(resource: Resource): Promise<ResourceSchema> {
    if (resource.kind !== "table") throw new ConfigError([`${this.where} serves tables, not ${resource.kind}s`]);
    const address = parseMssqlTable(resource.table);
    const label = quoteMssqlQualified(address);
    const pool = await this.connection();
    const result = await this.sourceErrors(`describing table ${resource.table}`, () => pool.request().query(columnsSql(address)));
    const rows = (result.recordset as { name: string; type: string; max_length: number; precision: number; scale: number; is_nullable: boolean }[])
      .map((r) => ({ name: r.name, type: r.type, maxLength: r.max_length, precision: r.precision, scale: r.scale, nullable: r.is_nullable }));
    if (rows.length === 0) throw new SourceError(`table ${label} does not exist in ${this.where} (or the login cannot see it)`);
    return { label, address, columns: columnsOf(rows, label) };
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    requireChunkRows(request);
    const query = buildSelect(request, MSSQL_SQL);
    const pool = await this.connection();
    const sqlRequest = pool.request();
    const cursors: (readonly (string | null)[] | undefined)[] = [];
    try {
      const blocks = mssqlBlocks(sqlRequest, query.sql, {
        groupRows: request.chunkRows,
        cursorIndexes: request.slice ? query.cursorIndexes : [],
        maxRowBytes: this.options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES,
      }, cursors);
      yield* rowChunks(request, engine, blocks, cursors, {
        fieldCount: query.columns.length,
        selectList: mssqlSelectList(query.columns),
        maxRowBytes: this.options.maxRowBytes,
        stopSource: () => sqlRequest.cancel(),
      });
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`extracting ${request.schema.label} from ${this.where}: ${(error as Error).message}`);
    }
  }

  private async splitPoints(schema: ResourceSchema, column: string, split: SplitRequest): Promise<string[]> {
    const col = columnOf(schema, column, "partitions.column");
    return this.sourceErrors(`partition boundaries of ${schema.label}.${col.name}`, async () => {
      if ("count" in split) {
        const count = Math.floor(split.count);
        if (count < 2) return [];
        const rows = Number((await this.texts(rowCountSql(schema.address)))[0]?.[0] ?? 0);
        const percent = rows > SAMPLE_ROWS ? Math.min(100, (100 * SAMPLE_ROWS) / rows) : undefined;
        let sample = await this.texts(sampleSql(schema, col, percent));
        // Pages sampled from a table whose rows sit in few of them can come back (nearly) empty: read every row.
        if (percent !== undefined && sample.length < count) sample = await this.texts(sampleSql(schema, col));
        return quantilePoints(sample.map((r) => r[0]!), count);
      }
      const [[min], [max]] = await this.texts(boundsSql(schema, col));
      const zoneless = (v: string | null) => v?.replace(/\+00$/, "") ?? null;
      return min === null || max === null ? [] : stepPoints(col, zoneless(min)!, zoneless(max)!, split);
    });
  }

  private async cursorMax(schema: ResourceSchema, columns: readonly string[]): Promise<CursorPosition | undefined> {
    const cols = columns.map((c) => columnOf(schema, c, "incremental.cursor"));
    return this.sourceErrors(`newest cursor of ${schema.label}`, async () => {
      const [row] = await this.texts(cursorMaxSql(schema, cols));
      return row ? { columns: [...columns], values: row } : undefined;
    });
  }

  /** A small query's rows, each value as text (every select expression gives text already). */
  private async texts(sql: string): Promise<(string | null)[][]> {
    const pool = await this.connection();
    const request = pool.request();
    request.arrayRowMode = true;
    const result = await request.query(sql);
    return (result.recordset as unknown as unknown[][]).map((row) => row.map((v) => (v === null || v === undefined ? null : String(v))));
  }

  async close(): Promise<void> {
    const pending = this.pool;
    this.pool = undefined;
    const pool = await pending?.catch(() => undefined);
    await pool?.close();
  }

  private sourceErrors<T>(what: string, body: () => Promise<T>): Promise<T> {
    return mssqlErrors.sourceErrors(`${what} in ${this.where}`, body);
  }

  /** One pool per run, opened on first use. */
  private connection(): Promise<ConnectionPool> {
    this.pool ??= (async () => {
      const mssql = (await import("mssql")).default;
      const credential = this.target.authentication === "sql" ? undefined : await entraCredential(this.target);
      return this.sourceErrors("connecting", () => new mssql.ConnectionPool(mssqlConfig(this.target, credential)).connect());
    })();
    this.pool.catch(() => (this.pool = undefined));
    return this.pool;
  }
}
