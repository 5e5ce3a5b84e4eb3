// A job sheet as plain data: the cells of one worksheet (or CSV file), each as its saved value, with the
// row numbers the spreadsheet shows. Reading the file (read.ts, exceljs) is apart from turning the cells
// into stages (pipeline.ts), so the Functions bundle embeds this JSON and validates it with the same code
// the CLI and the Pulumi program ran, without exceljs.

/**
 * One cell as saved: text, a number, a boolean, a date (with its Excel serial, days since 1899-12-30, so
 * a cell formatted as a date or time still gives its number), an Excel error value, a formula saved
 * without its result, or empty.
 */
export type SheetCell =
  | string
  | number
  | boolean
  | { readonly date: string; readonly serial: number }
  | { readonly error: string }
  | { readonly formula: string }
  | null;

export interface SheetRow {
  /** The row's number as the spreadsheet shows it (1 is the first row; for CSV, the record's number). */
  readonly number: number;
  /** Cells by column, the first column first. */
  readonly cells: readonly SheetCell[];
}

export interface JobSheet {
  /** The file as messages name it. @example "jobs.xlsx" */
  readonly file: string;
  /** The worksheet read; undefined for a CSV file, which has one. */
  readonly sheet?: string;
  /** Every row that holds a value, in order, the header row first. */
  readonly rows: readonly SheetRow[];
}

/** `jobs.xlsx: sheet "jobs", row 7` (CSV: `jobs.csv: row 7`). */
export function rowPlace(sheet: JobSheet, row: number): string {
  return `${sheet.file}: ${sheet.sheet !== undefined ? `sheet "${sheet.sheet}", ` : ""}row ${row}`;
}

/** Days between Excel's day 0 (1899-12-30, the 1900 leap-year bug included) and 1970-01-01. */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);

/** A date cell as plain data: its ISO text and its Excel serial. */
export function dateCell(date: Date): SheetCell {
  return { date: date.toISOString(), serial: (date.getTime() - EXCEL_EPOCH_MS) / 86_400_000 };
}
