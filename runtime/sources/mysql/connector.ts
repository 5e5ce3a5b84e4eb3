// The MySQL / MariaDB source connector: discover a table from information_schema, and read it with one
// SELECT inside a consistent-snapshot, read-only transaction, its rows streamed over the text protocol
// (exact text of every value) into VARCHAR batches that DuckDB casts and writes to Parquet in the encoder's
// thread (append/).

import type mysql from "mysql2";
import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { quoteIdent } from "../../engine/sql.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { VARCHAR } from "@duckdb/node-api";
import { appendToParquetChunks } from "../append/parquet-chunks.ts";
import { BRONZE_CODEC, type ParquetLayout } from "../csv/chunks.ts";
import { columnOf, cursorPosition } from "../incremental.ts";
import { MYSQL_CHECKSUM } from "../../reconcile/canonical.ts";
import type { ChecksumRequest, Chunk, CursorPosition, Partitioner, ReadRequest, ResourceSchema, SourceChecksum, SourceConnector, SplitRequest } from "../source.ts";
import { buildChecksumSelect } from "../sql/checksum.ts";
import { buildSelect } from "../sql/select.ts";
import { describeTable } from "./catalog.ts";
import { closeConnection, connect, cutConnection, type MysqlTarget, parseTarget, reason, run, sourceErrors } from "./connect.ts";
import { quoteMysqlIdent, quoteMysqlQualified } from "./identifiers.ts";
import { MYSQL_SQL } from "./query.ts";
import { quantilePoints, SAMPLE_ROWS, stepPoints } from "../sql/split.ts";
import { type ChunkFacts, queryBatches } from "./stream.ts";
import { duckConversion, mayHoldZeroDate, refuseCursor } from "./types.ts";

export interface MysqlConnectorOptions {
  /** The declared source's name, for messages. @example "shop" */
  readonly name?: string;
  /** How the source was declared (messages name it so). @default "mysql" */
  readonly flavor?: "mysql" | "mariadb";
  /** Page version and dictionaries of extracted chunks. @default BRONZE_LAYOUT (v2 pages, no dictionaries) */
  readonly parquetLayout?: ParquetLayout;
}

export function createMysqlConnector(url: string, options: MysqlConnectorOptions = {}): MysqlConnector {
  return new MysqlConnector(url, options);
}

export class MysqlConnector implements SourceConnector {
  /** The source for messages: its name and `mysql://user@host:port/db`, never the password. */
  readonly where: string;
  readonly partitioner: Partitioner = {
    splitPoints: (schema, column, split) => this.splitPoints(schema, column, split),
    cursorMax: (schema, columns) => this.cursorMax(schema, columns),
  };
  readonly refuseCursor = refuseCursor;
  private readonly target: MysqlTarget;
  private metadata: Promise<mysql.Connection> | undefined;
  private readonly kind: string;

  constructor(url: string, private readonly options: MysqlConnectorOptions = {}) {
    this.kind = options.flavor === "mariadb" ? "MariaDB" : "MySQL";
    this.target = parseTarget(url, options.flavor ?? "mysql");
    this.where = `${this.kind} ${options.name ? `source "${options.name}" at ` : ""}${this.target.description}`;
  }

  async discover(resource: Resource): Promise<ResourceSchema> {
    if (resource.kind !== "table") throw new ConfigError([`${this.where} serves tables, not ${resource.kind}s`]);
    const connection = await this.connection();
    return sourceErrors(`describing table ${resource.table} in ${this.where}`, () =>
      describeTable(connection, resource.table, this.where));
  }

  /** information_schema.TABLES.TABLE_ROWS (InnoDB's estimate); undefined for a view or an unknown table. */
  async estimateRows(schema: ResourceSchema): Promise<number | undefined> {
    const connection = await this.connection();
    const [database, table] = schema.address.length === 2 ? schema.address : [undefined, schema.address[0]];
    return sourceErrors(`row estimate of ${schema.label}`, async () => {
      const rows = await run(connection, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?", [database ?? null, table]);
      const value = rows[0]?.[0];
      return value === null || value === undefined ? undefined : Number(value);
    });
  }

  /** The reconciliation checksum, computed by the server (one row back). */
  async checksum(request: ChecksumRequest): Promise<SourceChecksum> {
    const sql = buildChecksumSelect(request, MYSQL_SQL, MYSQL_CHECKSUM);
    const connection = await this.connection();
    return sourceErrors(`checksum of ${request.schema.label}`, async () => {
      const [[rows, sum]] = await run(connection, sql);
      return { rows: Number(rows), sum: sum ?? "0" };
    });
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    if (!Number.isInteger(request.chunkRows) || request.chunkRows < 1) {
      throw new SourceError(`chunkRows must be a positive whole number (got ${request.chunkRows})`);
    }
    const query = buildSelect(request, MYSQL_SQL);
    engine.prepareParquetEncoder(); // its thread starts while the connection opens
    const connection = await connect(this.target);
    let clean = false;
    try {
      // One snapshot for the whole load, however many chunks it has.
      await run(connection, "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT");
      const facts: ChunkFacts[] = [];
      const batches = queryBatches(connection, query.sql, {
        groupRows: request.chunkRows,
        zeroDates: query.columns.map(mayHoldZeroDate),
        cursorIndexes: request.slice ? query.cursorIndexes : [],
      }, facts);
      const chunks = appendToParquetChunks(batches, engine, {
        workDir: request.workDir,
        // Every value arrives as its text; DuckDB casts it to the column's type (types.ts), as it would from CSV.
        stageTypes: query.columns.map(() => VARCHAR),
        widths: query.columns.map(() => 0),
        selectList: query.columns.map((c, i) => `${duckConversion(`c${i}`, c.duckType)} AS ${quoteIdent(c.name)}`).join(", "),
        codec: BRONZE_CODEC.codec,
        compressionLevel: BRONZE_CODEC.level,
        layout: this.options.parquetLayout,
        stopSource: () => cutConnection(connection),
        onRows: request.onRows,
      });
      for await (const chunk of chunks) {
        const fact = facts.shift();
        const warnings = query.columns.flatMap((c, i) => (fact?.zeroDates[i] ? [`${c.name}: ${fact.zeroDates[i]} zero dates stored as NULL`] : []));
        yield {
          file: chunk.file,
          rows: chunk.rows,
          bytes: chunk.bytes,
          lastCursor: request.slice && chunk.lastRow ? cursorPosition(request.slice, chunk.lastRow) : undefined,
          ...(warnings.length ? { warnings } : {}),
        };
      }
      await run(connection, "COMMIT");
      clean = true;
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`extracting ${request.schema.label} from ${this.where}: ${reason(error)}`);
    } finally {
      await closeConnection(connection, { force: !clean });
    }
  }

  private async splitPoints(schema: ResourceSchema, column: string, split: SplitRequest): Promise<string[]> {
    const col = columnOf(schema, column, "partitions.column");
    const name = quoteMysqlIdent(col.name);
    const table = quoteMysqlQualified(schema.address);
    const connection = await this.connection();
    return sourceErrors(`partition boundaries of ${schema.label}.${name}`, async () => {
      if ("count" in split) {
        const [[total]] = await run(connection, `SELECT COUNT(*) FROM ${table} WHERE ${name} IS NOT NULL`);
        const fraction = Math.min(1, SAMPLE_ROWS / Math.max(1, Number(total)));
        const sample = await run(connection, `SELECT ${MYSQL_SQL.selectExpression(col)} FROM ${table} WHERE ${name} IS NOT NULL AND RAND() < ${fraction} ORDER BY ${name}`);
        return quantilePoints(sample.map((r) => r[0]!), Math.floor(split.count));
      }
      const [[min, max]] = await run(connection, `SELECT MIN(${name}), MAX(${name}) FROM ${table}`);
      return min === null || max === null ? [] : stepPoints(col, min, max, split);
    });
  }

  private async cursorMax(schema: ResourceSchema, columns: readonly string[]): Promise<CursorPosition | undefined> {
    const cols = columns.map((c) => columnOf(schema, c, "incremental.cursor"));
    const names = cols.map((c) => quoteMysqlIdent(c.name));
    const connection = await this.connection();
    return sourceErrors(`newest cursor of ${schema.label}`, async () => {
      const rows = await run(connection,
        `SELECT ${cols.map((c) => MYSQL_SQL.selectExpression(c)).join(", ")} FROM ${quoteMysqlQualified(schema.address)} ` +
          `WHERE ${names.map((n) => `${n} IS NOT NULL`).join(" AND ")} ORDER BY ${names.map((n) => `${n} DESC`).join(", ")} LIMIT 1`);
      return rows[0] ? { columns: [...columns], values: rows[0] } : undefined;
    });
  }

  async close(): Promise<void> {
    const pending = this.metadata;
    this.metadata = undefined;
    const connection = await pending?.catch(() => undefined);
    if (connection) await closeConnection(connection);
  }

  /** The shared connection for catalog queries, opened on first use. */
  private async connection(): Promise<mysql.Connection> {
    this.metadata ??= connect(this.target);
    try {
      return await this.metadata;
    } catch (error) {
      this.metadata = undefined;
      throw error;
    }
  }
}
