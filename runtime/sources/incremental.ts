// The cursor rules, in one place for every source: which columns can be a cursor, a checkpoint checked
// against the resource's schema before it is used, look-back, and the slice turned into what a source
// can use: SQL predicates (databases), a request parameter plus an exact filter (APIs, files).
//
// A slice reads rows whose cursor columns are all non-NULL, strictly after the checkpoint (less the
// look-back on its first column) and at or before `until`, in cursor order. Rows with a NULL cursor
// value are read by full loads only.

import { SourceError } from "../errors.ts";
import type { CursorPosition, ResourceSchema, SourceColumn } from "./source.ts";

/** A validated incremental slice of one resource. Plain JSON, so a partition plan can store it. */
export interface CursorSlice {
  /** Cursor columns, in cursor order, as the schema has them. */
  readonly columns: readonly SourceColumn[];
  /** Exclusive lower bound: the checkpoint's values, one per column (undefined: from the first row). */
  readonly after?: readonly string[];
  /** Seconds the first column of `after` moves back, to re-read late-arriving rows. */
  readonly lookBackSeconds?: number;
  /** Inclusive upper bound, fixed once per run so parallel partitions agree on the end. */
  readonly until?: readonly string[];
}

export interface CursorSpec {
  readonly columns: readonly string[];
  readonly lookBackSeconds?: number;
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const TIME_TYPES = new Set(["DATE", "TIMESTAMP", "TIMESTAMPTZ"]);
const ORDERABLE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL\(\d+,\d+\)|FLOAT|DOUBLE|DATE|TIMESTAMP|TIMESTAMPTZ|TIME|VARCHAR|UUID)$/;

/**
 * Make the slice of a load: the cursor's columns must exist and order rows; a checkpoint must be for
 * the same columns, hold no NULL, and hold values of the columns' current types. `refuse` lets a source
 * reject columns it cannot compare exactly (answering why).
 */
export function cursorSlice(
  schema: ResourceSchema,
  spec: CursorSpec,
  checkpoint?: CursorPosition,
  until?: CursorPosition,
  refuse?: (column: SourceColumn) => string | undefined,
): CursorSlice {
  if (spec.columns.length === 0) throw new SourceError(`incremental.cursor: at least one column is needed`);
  const columns = spec.columns.map((name) => {
    const column = columnOf(schema, name, "incremental.cursor");
    const why = column.asText ? "is stored as text by a columns override" : !ORDERABLE.test(column.duckType) ? `has type ${column.sourceType}` : refuse?.(column);
    if (why) throw new SourceError(`incremental.cursor: column "${column.name}" ${why}, which cannot order a cursor`);
    return column;
  });
  const lookBack = spec.lookBackSeconds !== undefined && spec.lookBackSeconds > 0 ? spec.lookBackSeconds : undefined;
  if (lookBack !== undefined && !TIME_TYPES.has(columns[0].duckType)) {
    throw new SourceError(`incremental.lookBack: needs a date or timestamp first cursor column; "${columns[0].name}" is ${columns[0].sourceType}`);
  }
  return {
    columns,
    after: checkpoint && positionValues(checkpoint, columns, "the checkpoint"),
    lookBackSeconds: checkpoint ? lookBack : undefined,
    until: until && positionValues(until, columns, "the run's upper bound"),
  };
}

/** Find a column by exact name, or fail naming the resource and its columns. */
export function columnOf(schema: ResourceSchema, name: string, role: string): SourceColumn {
  const column = schema.columns.find((c) => c.name === name);
  if (!column) {
    throw new SourceError(`${role}: column "${name}" not found in ${schema.label} (columns: ${schema.columns.map((c) => c.name).join(", ")})`);
  }
  return column;
}

function positionValues(position: CursorPosition, columns: readonly SourceColumn[], what: string): string[] {
  const names = columns.map((c) => c.name);
  if (position.values.length !== names.length || position.columns.length !== names.length || position.columns.some((c, i) => c !== names[i])) {
    throw new SourceError(`incremental.cursor: ${what} is for (${position.columns.join(", ")}) but the cursor is (${names.join(", ")}); run a full refresh`);
  }
  return position.values.map((value, i) => {
    if (value === null) throw new SourceError(`incremental.cursor: ${what} holds NULL for "${names[i]}"; run a full refresh`);
    if (!valueFits(value, columns[i].duckType)) {
      throw new SourceError(
        `incremental.cursor: ${what} holds "${value}" for "${names[i]}", which is not a ${columns[i].sourceType} (did the column's type change?); run a full refresh`,
      );
    }
    return value;
  });
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;
const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?(?::\d\d)?)?( BC)?$/;
const INFINITE = /^[+-]?infinity$/i;

/** Whether `value` (source text) is a value of `duckType`: what a checkpoint must hold for its column. */
export function valueFits(value: string, duckType: string): boolean {
  if (INTEGER.test(duckType)) return /^[+-]?\d+$/.test(value);
  if (duckType.startsWith("DECIMAL")) return NUMBER.test(value);
  if (duckType === "FLOAT" || duckType === "DOUBLE") return NUMBER.test(value) || /^(NaN|[+-]?Inf(inity)?)$/i.test(value);
  if (duckType === "DATE") return DATE.test(value) || INFINITE.test(value);
  if (duckType === "TIMESTAMP" || duckType === "TIMESTAMPTZ") return TIMESTAMP.test(value) || INFINITE.test(value);
  return true;
}

/** The cursor position of a row, from its cursor values in cursor order. */
export function cursorPosition(slice: CursorSlice, values: readonly (string | null)[]): CursorPosition {
  return { columns: slice.columns.map((c) => c.name), values: [...values] };
}

// ---- SQL sources: the slice as predicates ----

/** How a SQL source spells what a slice needs. */
export interface SqlDialect {
  ident(name: string): string;
  /** A cursor or range value (source text, checked by `valueFits`) as a literal comparing as its column's type. */
  literal(value: string, column: SourceColumn): string;
  /** `literal` moved back by `seconds`, for a date or timestamp column (look-back). */
  minusSeconds(literal: string, column: SourceColumn, seconds: number): string;
  /**
   * Whether `(a, b) > (x, y)` is supported and served by an index on (a, b) (PostgreSQL). Otherwise the
   * comparison is spelled out as `a >= x AND (a > x OR (a = x AND b > y))`, which MySQL's and SQL
   * Server's planners turn into an index range.
   */
  readonly rowComparison: boolean;
}

/** WHERE predicates (to be joined with AND) for a slice. */
export function slicePredicates(slice: CursorSlice, dialect: SqlDialect): string[] {
  const names = slice.columns.map((c) => dialect.ident(c.name));
  const predicates = names.map((n) => `${n} IS NOT NULL`);
  if (slice.after) {
    const literals = slice.after.map((v, i) => dialect.literal(v, slice.columns[i]));
    if (slice.lookBackSeconds) literals[0] = dialect.minusSeconds(literals[0], slice.columns[0], slice.lookBackSeconds);
    predicates.push(compareRows(names, ">", literals, dialect.rowComparison));
  }
  if (slice.until) {
    predicates.push(compareRows(names, "<=", slice.until.map((v, i) => dialect.literal(v, slice.columns[i])), dialect.rowComparison));
  }
  return predicates;
}

/** The ORDER BY list a slice is read in. */
export function sliceOrder(slice: CursorSlice, dialect: SqlDialect): string {
  return slice.columns.map((c) => dialect.ident(c.name)).join(", ");
}

function compareRows(names: readonly string[], op: ">" | "<=", literals: readonly string[], rowComparison: boolean): string {
  if (rowComparison || names.length === 1) {
    return names.length === 1 ? `${names[0]} ${op} ${literals[0]}` : `(${names.join(", ")}) ${op} (${literals.join(", ")})`;
  }
  const strict = op === ">" ? ">" : "<";
  // From the last column outwards: (a > x OR (a = x AND (b > y OR (b = y AND c > z)))).
  let nested = `${names.at(-1)} ${op} ${literals.at(-1)}`;
  for (let i = names.length - 2; i >= 0; i--) nested = `(${names[i]} ${strict} ${literals[i]} OR (${names[i]} = ${literals[i]} AND ${nested}))`;
  // The leading bound on the first column alone is what an index range seeks on.
  return `${names[0]} ${op === ">" ? ">=" : "<="} ${literals[0]} AND ${nested}`;
}

// ---- Sources that cannot filter exactly (APIs, files): a request parameter and an exact filter ----

/**
 * The value to send as an API's "changed since" parameter: the first cursor column's lower bound, less
 * the look-back (then as ISO 8601 in UTC). Undefined for a first load. The API may return more than the
 * slice (a coarser filter, ties at the bound): keep only rows `inSlice` accepts.
 */
export function sinceParameter(slice: CursorSlice): string | undefined {
  if (!slice.after) return undefined;
  const first = slice.after[0];
  if (!slice.lookBackSeconds) return first;
  const micros = timeKey(first, slice.columns[0].duckType) - BigInt(Math.round(slice.lookBackSeconds * 1e6));
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return slice.columns[0].duckType === "DATE" ? iso.slice(0, 10) : iso;
}

/** Whether a row (its cursor values, source text) belongs to the slice: no NULL, after the lower bound, at or before `until`. */
export function inSlice(slice: CursorSlice, values: readonly (string | null)[]): boolean {
  if (values.some((v) => v === null)) return false;
  const row = values as readonly string[];
  if (slice.after && compareCursors(slice, row, slice.after, slice.lookBackSeconds) <= 0) return false;
  if (slice.until && compareCursors(slice, row, slice.until) > 0) return false;
  return true;
}

/** Compare two cursor positions (source text) by the columns' types: negative, 0 or positive. */
export function compareCursors(slice: CursorSlice, a: readonly string[], b: readonly string[], lookBackSeconds = 0): number {
  for (let i = 0; i < slice.columns.length; i++) {
    const type = slice.columns[i].duckType;
    let left = sortKey(a[i], type);
    let right = sortKey(b[i], type);
    if (i === 0 && lookBackSeconds && typeof right === "bigint") right -= BigInt(Math.round(lookBackSeconds * 1e6));
    if (typeof left !== typeof right) [left, right] = [String(left), String(right)];
    if (left < right) return -1;
    if (left > right) return 1;
  }
  return 0;
}

/** A value's sort key: exact integers for whole, decimal and time values; numbers for floats; text otherwise. */
function sortKey(value: string, duckType: string): bigint | number | string {
  if (INTEGER.test(duckType)) return BigInt(value);
  const decimal = /^DECIMAL\(\d+,(\d+)\)$/.exec(duckType);
  if (decimal) return scaled(value, Number(decimal[1]));
  if (duckType === "FLOAT" || duckType === "DOUBLE") return Number(value);
  if (TIME_TYPES.has(duckType)) return timeKey(value, duckType);
  if (duckType === "UUID") return value.toLowerCase();
  return value;
}

function scaled(value: string, scale: number): bigint {
  const [whole, fraction = ""] = value.replace(/^\+/, "").split(".");
  const negative = whole.startsWith("-");
  const digits = `${whole.replace("-", "") || "0"}${fraction.padEnd(scale, "0").slice(0, scale)}`;
  return negative ? -BigInt(digits) : BigInt(digits);
}

const INFINITY_MICROS = 1n << 62n;

/** Microseconds since 1970 (a date is its midnight; a timestamp without zone is read as UTC). */
function timeKey(value: string, duckType: string): bigint {
  if (INFINITE.test(value)) return value.startsWith("-") ? -INFINITY_MICROS : INFINITY_MICROS;
  const m = (duckType === "DATE" ? DATE : TIMESTAMP).exec(value);
  if (!m) throw new SourceError(`incremental.cursor: "${value}" is not a ${duckType.toLowerCase()}`);
  const bc = (duckType === "DATE" ? m[4] : m[9]) !== undefined;
  const year = bc ? 1 - Number(m[1]) : Number(m[1]);
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  if (duckType !== "DATE") date.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  let micros = BigInt(date.getTime()) * 1000n;
  if (duckType !== "DATE") {
    micros += BigInt((m[7] ?? "").padEnd(6, "0").slice(0, 6) || "0");
    const zone = m[8];
    if (zone && zone !== "Z") {
      const [h, mm = "0", ss = "0"] = zone.slice(1).split(/:|(?<=^\d\d)(?=\d\d)/);
      const offset = (Number(h) * 3600 + Number(mm) * 60 + Number(ss)) * (zone[0] === "-" ? -1 : 1);
      micros -= BigInt(offset) * 1_000_000n;
    }
  }
  return micros;
}
