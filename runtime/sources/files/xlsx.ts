// An Excel worksheet as CSV, in one streaming pass (exceljs's WorkbookReader: rows are read and written
// one at a time; what stays in memory is the workbook's shared strings and styles). The first row names
// the columns. Each column's type comes from its cells, not from guessing at text: whole numbers →
// BIGINT, other numbers → DOUBLE, dates → TIMESTAMP, TRUE/FALSE → BOOLEAN, text → VARCHAR, a column
// mixing kinds → VARCHAR (each value as its text). Excel error values (#N/A, #DIV/0!) become NULL and are
// counted for the run record.

import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import ExcelJS from "exceljs";
import type { ValueCount } from "./formats.ts";

export interface XlsxTable {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: number;
  /** Values stored as NULL because the cell held an Excel error. */
  readonly errors: readonly ValueCount[];
}

/** A file refused for what it holds (not an I/O failure): the message is the reason. */
export class UnreadableFile extends Error {}

type Kind = "int" | "float" | "bool" | "date" | "text";

interface Column {
  name: string;
  kind?: Kind;
  errors: number;
}

/** Write the worksheet (`worksheet`, or the first) of `file` as CSV to `csv`: a header line, then one line per non-empty row. */
export async function xlsxToCsv(file: string, csv: string, worksheet?: string): Promise<XlsxTable> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: "cache", styles: "cache", hyperlinks: "ignore", worksheets: "emit", entries: "emit" });
  const names: string[] = [];
  const out = createWriteStream(csv);
  try {
    for await (const sheet of reader) {
      const name = (sheet as unknown as { name?: string }).name ?? `Sheet${names.length + 1}`;
      names.push(name);
      if (worksheet !== undefined ? name !== worksheet : names.length > 1) continue;
      return await writeSheet(sheet as AsyncIterable<ExcelJS.Row>, out);
    }
  } catch (e) {
    if (e instanceof UnreadableFile) throw e;
    throw new UnreadableFile(`not a readable .xlsx workbook (${(e as Error).message.split("\n")[0]})`);
  } finally {
    out.end();
    await once(out, "close").catch(() => undefined);
  }
  throw new UnreadableFile(worksheet !== undefined ? `no worksheet "${worksheet}" (worksheets: ${names.join(", ") || "none"})` : "the workbook has no worksheet");
}

async function writeSheet(rows: AsyncIterable<ExcelJS.Row>, out: WriteStream): Promise<XlsxTable> {
  let columns: Column[] | undefined;
  let count = 0;
  for await (const row of rows) {
    const values = (row.values as unknown[]).slice(1);
    if (!columns) {
      columns = headerOf(values);
      await write(out, columns.map((c) => csvText(c.name)).join(",") + "\n");
      continue;
    }
    const cells = values.map(cellValue);
    if (cells.every((c) => c === null)) continue;
    const extra = cells.findIndex((c, i) => i >= columns!.length && c !== null);
    if (extra !== -1) throw new UnreadableFile(`row ${row.number} has a value in column ${columnLetter(extra + 1)}, which has no header`);
    const fields = columns.map((column, i) => {
      const cell = i < cells.length ? cells[i] : null;
      if (cell === null) return "";
      if (cell === ERROR) {
        column.errors++;
        return "";
      }
      column.kind = widen(column.kind, kindOf(cell));
      return fieldOf(cell);
    });
    await write(out, fields.join(",") + "\n");
    count++;
  }
  if (!columns) throw new UnreadableFile("the worksheet is empty (no header row)");
  return {
    columns: columns.map((c) => ({ name: c.name, type: TYPES[c.kind ?? "text"] })),
    rows: count,
    errors: columns.filter((c) => c.errors > 0).map((c) => ({ column: c.name, count: c.errors, issue: "Excel error values (#N/A, #DIV/0!, …) stored as NULL" })),
  };
}

const TYPES: Record<Kind, string> = { int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN", date: "TIMESTAMP", text: "VARCHAR" };

const ERROR = Symbol("excel error");
type Cell = number | string | boolean | Date | typeof ERROR | null;

/** The value a cell holds: a formula's result, a rich text's text, a hyperlink's text. */
function cellValue(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : ERROR;
  if (typeof value === "string" || typeof value === "boolean" || value instanceof Date) return value;
  if (typeof value === "object") {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; formula?: unknown; sharedFormula?: unknown; error?: unknown };
    if (v.error !== undefined) return ERROR;
    if (v.richText) return v.richText.map((r) => r.text).join("");
    if (v.formula !== undefined || v.sharedFormula !== undefined) return cellValue(v.result);
    if (v.text !== undefined) return cellValue(v.text);
  }
  return String(value);
}

function kindOf(cell: Exclude<Cell, null | typeof ERROR>): Kind {
  if (typeof cell === "number") return Number.isSafeInteger(cell) ? "int" : "float";
  if (typeof cell === "boolean") return "bool";
  if (cell instanceof Date) return "date";
  return "text";
}

function widen(a: Kind | undefined, b: Kind): Kind {
  if (a === undefined || a === b) return b;
  if ((a === "int" && b === "float") || (a === "float" && b === "int")) return "float";
  return "text";
}

/** A cell as a CSV field: numbers and booleans bare, dates as ISO 8601 without a zone, text always quoted. */
function fieldOf(cell: Exclude<Cell, null | typeof ERROR>): string {
  if (typeof cell === "number") return String(cell);
  if (typeof cell === "boolean") return cell ? "true" : "false";
  if (cell instanceof Date) return cell.toISOString().replace("T", " ").replace("Z", "");
  return csvText(cell);
}

function csvText(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** Header names: blank cells are `column<N>`, a repeated name gets `_2`, `_3`. */
function headerOf(values: unknown[]): Column[] {
  const seen = new Map<string, number>();
  const columns: Column[] = [];
  values.forEach((value, i) => {
    const cell = cellValue(value);
    const text = cell === null || cell === ERROR ? "" : cell instanceof Date ? cell.toISOString() : String(cell).trim();
    const base = text || `column${i + 1}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    columns.push({ name: n === 1 ? base : `${base}_${n}`, errors: 0 });
  });
  // Trailing blank header cells name nothing.
  while (columns.length && /^column\d+$/.test(columns.at(-1)!.name) && !cellValue(values[columns.length - 1])) columns.pop();
  return columns;
}

function columnLetter(n: number): string {
  let s = "";
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}
