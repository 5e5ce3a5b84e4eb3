// The Oracle source connector (node-oracledb thin mode: no Instant Client): discover a table or view from
// ALL_TAB_COLUMNS, read it with one SELECT (read-consistent as of its start, however many chunks it has)
// pulled from a result set batch by batch into the shared CSV block writer, and split it at sampled
// quantiles of a key for parallel extraction.

import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { BlockWriter } from "../csv/blocks.ts";
import { type CsvBlock, DEFAULT_MAX_ROW_BYTES } from "../csv/chunks.ts";
import { driverErrors, driverText } from "../driver-errors.ts";
import { columnOf } from "../incremental.ts";
import type { Chunk, CursorPosition, Partitioner, ReadRequest, ResourceSchema, SourceColumn, SourceConnector, SplitRequest } from "../source.ts";
import { requireChunkRows, rowChunks } from "../sql/chunks.ts";
import { buildSelect } from "../sql/select.ts";
import { quantilePoints, SAMPLE_ROWS, stepPoints } from "../sql/split.ts";
import { oracleConnectAttributes, type OracleTarget, parseOracleTarget } from "./connect.ts";
import { loadOracleDriver, type OracleConnection, type OracleDriver } from "./driver.ts";
import { parseOracleTable, quoteOracleIdent, quoteOracleQualified } from "./identifiers.ts";
import { ORACLE_SQL } from "./query.ts";
import { boundsSql, countSql, cursorMaxSql, sampleSql, TABLE_ROWS_SQL } from "./split.ts";
import { isPlainText, type OracleColumnInfo, oracleDuckType, oracleSelectList, oracleTypeName, refuseCursor } from "./types.ts";
import { numberAsText, rowLayout, rowTexts, rowTextsWithLobs } from "./values.ts";

/** The driver's message (`ORA-00942: table or view does not exist`) on one line, without its connection id, redacted. */
export function oracleReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return driverText(text.replace(/\s*\(CONNECTION_ID=[^)]*\)/g, "").split("\n").map((line) => line.trim().replace(/\.$/, "")).filter(Boolean).join(": "));
}

const oracleErrors = driverErrors(oracleReason);

/**
 * Session settings every value's text and every comparison depend on: TIMESTAMP WITH LOCAL TIME ZONE in
 * UTC, binary (byte) order for ORDER BY and for `>` alike (so a cursor's order is the order it is
 * compared in), and `.` as the decimal separator.
 */
export const SESSION_SQL = "ALTER SESSION SET TIME_ZONE = '+00:00' NLS_SORT = BINARY NLS_COMP = BINARY NLS_NUMERIC_CHARACTERS = '.,'";

/** Rows per round trip: large enough that the network is not the limit, small enough to bound memory with 8 MB rows. */
const FETCH_ROWS = 1000;

export interface OracleConnectorOptions {
  /** The declared source's name, for messages. */
  readonly name?: string;
  /** Largest row, as CSV text. @default 8 MiB */
  readonly maxRowBytes?: number;
  /** The driver. @default oracledb (thin mode); tests without a server give a stand-in */
  readonly driver?: OracleDriver;
}

/** The catalog query: a table's or view's columns in order (binds: owner or NULL for the current schema, name). */
export const COLUMNS_SQL =
  `SELECT c.owner, c.column_name, c.data_type, c.data_type_owner, c.data_length, c.data_precision, c.data_scale, c.char_length, c.nullable ` +
  `FROM all_tab_columns c WHERE c.owner = COALESCE(:1, SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')) AND c.table_name = :2 ORDER BY c.column_id`;

/** Bronze columns of a table as the catalog describes them; a type Mallard does not read is refused, naming the column. */
export function columnsOf(rows: readonly OracleColumnInfo[], label: string): SourceColumn[] {
  return rows.map((row) => {
    const duckType = oracleDuckType(row);
    const sourceType = oracleTypeName(row);
    if (!duckType) {
      throw new SourceError(`${label}: column "${row.name}" has type ${row.dataTypeOwner ? `${row.dataTypeOwner}.` : ""}${sourceType}, which Mallard does not read; ` +
        `read the table through a view that converts it (to text, a number or a LOB)`);
    }
    return { name: row.name, sourceType, duckType, nullable: row.nullable };
  });
}

export function createOracleConnector(connection: string, options: OracleConnectorOptions = {}): OracleConnector {
  return new OracleConnector(parseOracleTarget(connection), options);
}

export class OracleConnector implements SourceConnector {
  readonly where: string;
  readonly refuseCursor = refuseCursor;
  readonly partitioner: Partitioner = {
    splitPoints: (schema, column, split) => this.splitPoints(schema, column, split),
    cursorMax: (schema, columns) => this.cursorMax(schema, columns),
  };
  private metadata: Promise<OracleConnection> | undefined;
  private driver: OracleDriver | undefined;

  constructor(private readonly target: OracleTarget, private readonly options: OracleConnectorOptions = {}) {
    this.where = `Oracle ${options.name ? `source "${options.name}" at ` : ""}${target.description}`;
  }

  async discover(resource: Resource): Promise<ResourceSchema> {
    if (resource.kind !== "table") throw new ConfigError([`${this.where} serves tables, not ${resource.kind}s`]);
    const [owner, name] = parseOracleTable(resource.table);
    const connection = await this.connection();
    const result = await this.sourceErrors(`describing table ${resource.table}`, () => connection.execute(COLUMNS_SQL, [owner ?? null, name]));
    const rows = (result.rows ?? []) as [string, string, string, string | null, number, number | null, number | null, number, string][];
    const shown = owner ? quoteOracleQualified([owner, name]) : quoteOracleIdent(name);
    if (rows.length === 0) throw new SourceError(`table ${shown} does not exist in ${this.where} (or the user cannot see it)`);
    const address = [rows[0][0], name];
    const label = quoteOracleQualified(address);
    const columns = columnsOf(rows.map(([, columnName, dataType, dataTypeOwner, dataLength, precision, scale, charLength, nullable]) =>
      ({ name: columnName, dataType, dataTypeOwner, dataLength, precision, scale, charLength, nullable: nullable === "Y" })), label);
    return { label, address, columns };
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    requireChunkRows(request);
    const query = buildSelect(request, ORACLE_SQL);
    const connection = await this.connect();
    const cursors: (readonly (string | null)[] | undefined)[] = [];
    try {
      const blocks = this.blocks(connection, query.sql, query.columns, {
        groupRows: request.chunkRows,
        plain: query.columns.map(isPlainText),
        cursorIndexes: request.slice ? query.cursorIndexes : [],
        maxRowBytes: this.options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES,
      }, cursors);
      yield* rowChunks(request, engine, blocks, cursors, {
        fieldCount: query.columns.length,
        selectList: oracleSelectList(query.columns),
        maxRowBytes: this.options.maxRowBytes,
        stopSource: () => void connection.breakExecution().catch(() => undefined),
      });
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`extracting ${request.schema.label} from ${this.where}: ${oracleReason(error)}`, { cause: oracleErrors.scrub(error) });
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /** The query's rows as CSV blocks, pulled from a result set a batch at a time (a pull needs no pause: memory holds one batch). */
  private async *blocks(
    connection: OracleConnection, sql: string, columns: readonly SourceColumn[],
    options: ConstructorParameters<typeof BlockWriter>[0], cursors: (readonly (string | null)[] | undefined)[],
  ): AsyncGenerator<CsvBlock> {
    const driver = await this.loadDriver();
    const writer = new BlockWriter(options, (cursor) => cursors.push(cursor));
    const layout = rowLayout(columns);
    const { resultSet } = await connection.execute(sql, [], { resultSet: true, fetchArraySize: FETCH_ROWS, prefetchRows: FETCH_ROWS, fetchTypeHandler: numberAsText(driver) });
    try {
      for (;;) {
        const rows = await resultSet!.getRows(FETCH_ROWS);
        for (const row of rows) {
          writer.row(layout.hasLobs ? await rowTextsWithLobs(row, layout, options.maxRowBytes, writer.rows + 1) : rowTexts(row, layout));
        }
        yield* writer.ready.splice(0);
        if (rows.length < FETCH_ROWS) break;
      }
      writer.finish();
      yield* writer.ready.splice(0);
    } finally {
      await resultSet!.close().catch(() => undefined);
    }
  }

  private async splitPoints(schema: ResourceSchema, column: string, split: SplitRequest): Promise<string[]> {
    const col = columnOf(schema, column, "partitions.column");
    return this.sourceErrors(`partition boundaries of ${schema.label}.${quoteOracleIdent(col.name)}`, async () => {
      if ("count" in split) {
        const count = Math.floor(split.count);
        if (count < 2) return [];
        const rows = await this.tableRows(schema);
        const percent = (100 * SAMPLE_ROWS) / Math.max(1, rows);
        if (rows <= SAMPLE_ROWS) return quantilePoints((await this.texts(sampleSql(schema, col), [col])).map((r) => r[0]!), count);
        // Whole blocks are cheap to sample; a table whose rows sit in few blocks falls back to sampling rows.
        let sample = await this.texts(sampleSql(schema, col, { percent, by: "block" }), [col]);
        if (sample.length < count) sample = await this.texts(sampleSql(schema, col, { percent, by: "row" }), [col]);
        return quantilePoints(sample.map((r) => r[0]!), count);
      }
      const [min, max] = (await this.texts(boundsSql(schema, col), [col])).map((r) => r[0]?.replace(/\+00$/, "") ?? null);
      return min === null || max === null ? [] : stepPoints(col, min, max, split);
    });
  }

  /** Rows of the table: the optimizer's statistics when it has them, else a count; 0 for a view (read whole: SAMPLE needs a table). */
  private async tableRows(schema: ResourceSchema): Promise<number> {
    const connection = await this.connection();
    const stats = await connection.execute(TABLE_ROWS_SQL, [...schema.address]);
    if (!stats.rows?.length) return 0;
    const known = stats.rows[0][0];
    if (typeof known === "number") return known;
    const counted = await connection.execute(countSql(schema));
    return Number(counted.rows?.[0]?.[0] ?? 0);
  }

  private async cursorMax(schema: ResourceSchema, columns: readonly string[]): Promise<CursorPosition | undefined> {
    const cols = columns.map((c) => columnOf(schema, c, "incremental.cursor"));
    return this.sourceErrors(`newest cursor of ${schema.label}`, async () => {
      const [row] = await this.texts(cursorMaxSql(schema, cols), cols);
      return row ? { columns: [...columns], values: row } : undefined;
    });
  }

  /** A small query's rows as each column's text (partition bounds, the newest cursor). */
  private async texts(sql: string, columns: readonly SourceColumn[]): Promise<(string | null)[][]> {
    const connection = await this.connection();
    const driver = await this.loadDriver();
    const result = await connection.execute(sql, [], { fetchTypeHandler: numberAsText(driver) });
    const layout = rowLayout(columns);
    return (result.rows ?? []).map((row) => rowTexts(row, layout).map((v) => (v === null || typeof v === "string" ? v : v.toString("utf8"))));
  }

  async close(): Promise<void> {
    const pending = this.metadata;
    this.metadata = undefined;
    const connection = await pending?.catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }

  private sourceErrors<T>(what: string, body: () => Promise<T>): Promise<T> {
    return oracleErrors.sourceErrors(`${what} in ${this.where}`, body);
  }

  private async loadDriver(): Promise<OracleDriver> {
    this.driver ??= this.options.driver ?? await loadOracleDriver();
    return this.driver;
  }

  /** A new session with Mallard's settings (each read has its own, so reads run in parallel). */
  private async connect(): Promise<OracleConnection> {
    const driver = await this.loadDriver();
    return this.sourceErrors("connecting", async () => {
      const connection = await driver.getConnection(oracleConnectAttributes(this.target));
      try {
        await connection.execute(SESSION_SQL);
      } catch (error) {
        await connection.close().catch(() => undefined);
        throw error;
      }
      return connection;
    });
  }

  /** The shared session for catalog queries, opened on first use. */
  private connection(): Promise<OracleConnection> {
    this.metadata ??= this.connect();
    this.metadata.catch(() => (this.metadata = undefined));
    return this.metadata;
  }
}
