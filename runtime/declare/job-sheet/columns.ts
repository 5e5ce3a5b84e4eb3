// The columns of a job sheet and how each cell is read. Headers match whatever their case, spacing and
// punctuation ("Primary Key", "primary_key", "primaryKey"); cells are read forgivingly where a spreadsheet
// gets in the way (a number saved as text, a count formatted as a date, a look-back typed as 0:10) and
// refused with a reason where a guess could load the wrong thing.

import { parseDuration } from "../duration.ts";
import type { SheetCell } from "./sheet.ts";

/** What a job sheet row can say, one column each. */
export const JOB_COLUMNS = {
  stage: { shown: "stage", aliases: ["stage", "stagename", "name"], doc: "stage name (default: the table's name)" },
  source: { shown: "source", aliases: ["source", "sourcename"], doc: "a source of the companion YAML, by name" },
  table: { shown: "table", aliases: ["table", "tablename", "sourcetable"], doc: "schema-qualified table" },
  load: { shown: "load", aliases: ["load", "loadtype", "mode"], doc: "full or incremental (default: incremental when a cursor is given)" },
  cursor: { shown: "cursor", aliases: ["cursor", "cursors", "cursorcolumn", "cursorcolumns"], doc: "cursor column(s), comma-separated, most significant first" },
  primaryKey: { shown: "primary key", aliases: ["primarykey", "primarykeys", "pk", "key", "keys"], doc: "key column(s), comma-separated" },
  lookBack: { shown: "look back", aliases: ["lookback"], doc: "a duration such as 10 minutes" },
  partitions: { shown: "partitions", aliases: ["partitions", "partitioncount"], doc: "number of parallel partitions, 2 or more" },
  partitionColumn: { shown: "partition column", aliases: ["partitioncolumn", "partitionby"], doc: "column to split on (default: a one-column primary key)" },
  deletes: { shown: "deletes", aliases: ["deletes"], doc: "keyScan (or yes) to carry deletes into bronze" },
  enabled: { shown: "enabled", aliases: ["enabled", "active"], doc: "no to skip the row (default: yes)" },
  schedule: { shown: "schedule", aliases: ["schedule"], doc: "the table's own NCRONTAB schedule" },
  textColumns: { shown: "text columns", aliases: ["textcolumns", "columnsastext"], doc: "columns stored as the source's text" },
} as const;

export type JobField = keyof typeof JOB_COLUMNS;

/** Columns for people, not for Mallard: read by nobody, refused by nobody. */
const IGNORED = ["notes", "note", "comment", "comments", "description", "owner"];

/** How a header is compared: lower case, letters and digits only. */
const normalise = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, "");

/** The field a header names, `"ignored"` for a column for people, or undefined for one Mallard does not know. */
export function fieldOfHeader(header: string): JobField | "ignored" | undefined {
  const key = normalise(header);
  if (header.trim().startsWith("#") || IGNORED.includes(key)) return "ignored";
  return (Object.keys(JOB_COLUMNS) as JobField[]).find((field) => (JOB_COLUMNS[field].aliases as readonly string[]).includes(key));
}

/** A cell that cannot be read as its column needs: the message says why. */
export class CellProblem extends Error {}

/** What a cell is, for messages: `a date (2024-01-05)`, `TRUE`, `#N/A`. */
function described(cell: Exclude<SheetCell, null>): string {
  if (typeof cell === "boolean") return cell ? "TRUE" : "FALSE";
  if (typeof cell === "number") return `the number ${cell}`;
  if (typeof cell === "string") return `"${cell}"`;
  if ("date" in cell) return `a date (${cell.date.replace(/T00:00:00\.000Z$/, "").replace(".000Z", "Z")})`;
  if ("error" in cell) return `the error value ${cell.error}`;
  return `the formula =${cell.formula}`;
}

/** Cells no column can use: an Excel error value, a formula whose result was never saved. */
function unusable(cell: Exclude<SheetCell, null>): never | void {
  if (typeof cell === "object" && "error" in cell) throw new CellProblem(`the cell holds ${cell.error}: fix the cell (or its formula)`);
  if (typeof cell === "object" && "formula" in cell) {
    throw new CellProblem(`the formula =${cell.formula} has no saved result (Mallard reads the value a spreadsheet program saved, it does not evaluate formulas): open the file in one and save it`);
  }
}

/** Text, trimmed (a non-breaking space is a space); a whole number typed in a text column is its digits. */
export function textCell(cell: SheetCell): string | undefined {
  if (cell === null) return undefined;
  unusable(cell);
  if (typeof cell === "string") return cell.replace(/\u00a0/g, " ").trim() || undefined;
  if (typeof cell === "number") return String(cell);
  throw new CellProblem(`${described(cell)}, expected text`);
}

/** Column names separated by commas (or semicolons, or line breaks within the cell). */
export function listCell(cell: SheetCell): string[] | undefined {
  const text = textCell(cell);
  const names = text?.split(/[,;\n]/).map((n) => n.trim()).filter(Boolean);
  return names?.length ? names : undefined;
}

/** A whole number: typed as a number, as text ("8"), or in a cell formatted as a date (its serial). */
export function countCell(cell: SheetCell): number | undefined {
  if (cell === null) return undefined;
  unusable(cell);
  const n = typeof cell === "number" ? cell
    : typeof cell === "string" && /^\s*[+-]?\d+(\.0*)?\s*$/.test(cell) ? Number(cell)
    : typeof cell === "object" && "serial" in cell ? cell.serial
    : Number.NaN;
  if (!Number.isInteger(n)) throw new CellProblem(`${described(cell)}, expected a whole number`);
  return n;
}

const YES = ["yes", "y", "true", "1", "x", "on", "✓", "✔"];
const NO = ["no", "n", "false", "0", "off", "-"];

/** Yes or no: TRUE/FALSE, 1/0, yes/no, y/n, x (ticked), on/off; undefined when empty. */
export function flagCell(cell: SheetCell): boolean | undefined {
  if (cell === null) return undefined;
  unusable(cell);
  if (typeof cell === "boolean") return cell;
  const text = String(typeof cell === "object" ? "" : cell).trim().toLowerCase();
  if (YES.includes(text)) return true;
  if (NO.includes(text)) return false;
  throw new CellProblem(`${described(cell)}, expected yes or no`);
}

const UNIT_WORDS: Record<string, string> = { s: "second", sec: "second", secs: "second", m: "minute", min: "minute", mins: "minute", h: "hour", hr: "hour", hrs: "hour", d: "day", w: "week" };

/**
 * A duration: `10 minutes`, `10 min`, `10m`, or a cell Excel turned into a time (`0:10` typed is 10
 * minutes, saved as a fraction of a day). A bare number is refused: minutes or hours, it does not say.
 */
export function durationCell(cell: SheetCell): string | undefined {
  if (cell === null) return undefined;
  unusable(cell);
  if (typeof cell === "object" && "serial" in cell) {
    const seconds = Math.round(cell.serial * 86_400);
    if (seconds >= 0 && cell.serial < 366) return `${seconds} seconds`;
  }
  if (typeof cell === "string") {
    const text = cell.trim();
    if (parseDuration(text) !== undefined) return text;
    const short = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text);
    const unit = short && UNIT_WORDS[short[2].toLowerCase()];
    if (short && unit) return `${short[1]} ${unit}s`;
  }
  throw new CellProblem(`${described(cell)}, expected a duration such as "10 minutes"${typeof cell === "number" ? " (say the unit)" : ""}`);
}

/** `A`, `B`, …, `AA`: a column's letter, for a column without a header. */
export function columnLetter(n: number): string {
  let s = "";
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
