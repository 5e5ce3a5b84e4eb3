// A row as the thin driver fetches it → each column's text for the CSV chunk pipeline. NUMBER arrives as
// the driver's exact decimal text (fetched as a string, see NUMBER_AS_TEXT), TO_CHAR'd times as text,
// BINARY_FLOAT/DOUBLE as JS numbers (their shortest round-trip text is exact), RAW and BLOB as bytes
// (written as hex), intervals as the driver's objects, and a LOB as its value inline or as a locator that
// is read only after its length is checked against the row limit, so memory stays bounded.

import type { CsvValue } from "../csv/blocks.ts";
import type { SourceColumn } from "../source.ts";
import type { OracleDriver, OracleFetchMetadata, OracleLob } from "./driver.ts";
import { isBlob, isClob, oracleSelectItems } from "./types.ts";

/** The fetch type handler every query uses: NUMBER as the driver's exact decimal text, never a JS number. */
export function numberAsText(driver: Pick<OracleDriver, "DB_TYPE_NUMBER" | "DB_TYPE_VARCHAR">) {
  return (metadata: OracleFetchMetadata) => (metadata.dbType === driver.DB_TYPE_NUMBER ? { type: driver.DB_TYPE_VARCHAR } : undefined);
}

/** Where each selected column's fields are in a fetched row (a LOB has two: inline value and locator). */
export interface RowLayout {
  readonly columns: readonly SourceColumn[];
  readonly offsets: readonly number[];
  /** Any LOB column: rows may need a round trip each, so they are converted asynchronously. */
  readonly hasLobs: boolean;
}

export function rowLayout(columns: readonly SourceColumn[]): RowLayout {
  const offsets: number[] = [];
  let at = 0;
  for (const column of columns) {
    offsets.push(at);
    at += oracleSelectItems(column).length;
  }
  return { columns, offsets, hasLobs: columns.some((c) => isClob(c) || isBlob(c)) };
}

/** A fetched value (not a LOB locator) as CSV text. */
export function oracleText(value: unknown, column: SourceColumn): CsvValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Buffer.isBuffer(value)) return value.toString("hex");
  if (isIntervalDS(value)) return intervalDS(value);
  if (isIntervalYM(value)) return `${value.years * 12 + value.months} months`;
  throw new Error(`column "${column.name}" (${column.sourceType}): the driver returned a ${describe(value)}, which Mallard does not read`);
}

/** A row's values, one per column, synchronously (no LOB column). */
export function rowTexts(row: readonly unknown[], layout: RowLayout): CsvValue[] {
  return layout.columns.map((column, i) => oracleText(row[layout.offsets[i]], column));
}

/** A row's values, one per column, reading long LOBs through their locators. `rowNumber` names the row in messages. */
export async function rowTextsWithLobs(row: readonly unknown[], layout: RowLayout, maxRowBytes: number, rowNumber: number): Promise<CsvValue[]> {
  const values: CsvValue[] = [];
  for (let i = 0; i < layout.columns.length; i++) {
    const column = layout.columns[i];
    const at = layout.offsets[i];
    if (!isClob(column) && !isBlob(column)) {
      values.push(oracleText(row[at], column));
      continue;
    }
    const inline = row[at];
    const lob = row[at + 1] as OracleLob | null | undefined;
    if (inline !== null && inline !== undefined) values.push(oracleText(inline, column));
    else if (lob) values.push(await readLob(lob, column, maxRowBytes, rowNumber));
    else values.push(null);
  }
  return values;
}

/** A LOB's content, refused before it is read when it cannot fit in a row (a CLOB character is 1 to 3 bytes, a BLOB byte 2 hex digits). */
async function readLob(lob: OracleLob, column: SourceColumn, maxRowBytes: number, rowNumber: number): Promise<CsvValue> {
  const least = isBlob(column) ? 2 * lob.length : lob.length;
  if (least > maxRowBytes) {
    lob.destroy?.();
    const unit = isBlob(column) ? "bytes" : "characters";
    throw new Error(`row ${rowNumber}: column "${column.name}" holds a ${column.sourceType} of ${lob.length} ${unit}, more than the ${maxRowBytes} bytes a row may have (raise maxRowBytes)`);
  }
  const data = await lob.getData();
  lob.destroy?.();
  return oracleText(data ?? (isBlob(column) ? Buffer.alloc(0) : ""), column);
}

interface IntervalDSValue { days: number; hours: number; minutes: number; seconds: number; fseconds: number }
interface IntervalYMValue { years: number; months: number }

const isIntervalDS = (v: object): v is IntervalDSValue => "days" in v && "fseconds" in v;
const isIntervalYM = (v: object): v is IntervalYMValue => "years" in v && "months" in v;

/** `-3 days -14706.123456789 seconds`: what DuckDB's CAST(… AS INTERVAL) reads back (to the microsecond). */
function intervalDS(v: IntervalDSValue): string {
  const nanos = BigInt((v.hours * 60 + v.minutes) * 60 + v.seconds) * 1_000_000_000n + BigInt(v.fseconds);
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const seconds = `${negative ? "-" : ""}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, "0")}`;
  return `${v.days} days ${seconds} seconds`;
}

function describe(value: unknown): string {
  if (value instanceof Date) return "Date";
  return typeof value === "object" ? (value as object).constructor?.name ?? "object" : typeof value;
}
