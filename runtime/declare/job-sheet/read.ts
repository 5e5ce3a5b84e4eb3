// Read a job sheet file into plain cells (sheet.ts): an .xlsx workbook with exceljs (the worksheet named
// "jobs", else the first visible one) or a CSV file (comma or semicolon separated, as Excel saves it in
// locales whose decimal mark is a comma). Values are what the file saved: a formula's cached result, the
// master cell's value in every cell of a merged range, a date as its date and serial. Nothing is
// interpreted here; pipeline.ts decides what each column's cells mean.

import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import ExcelJS from "exceljs";
import { ConfigError } from "../../errors.ts";
import { dateCell, type JobSheet, type SheetCell, type SheetRow } from "./sheet.ts";

/** The sheet in `file` (absolute); `shown` names it in messages. */
export async function readJobSheet(file: string, shown: string): Promise<JobSheet> {
  const bytes = await readFile(file).catch(() => {
    throw new ConfigError([`${shown}: config file not found`]);
  });
  return /\.csv$/i.test(file) ? readCsv(bytes, shown) : readXlsx(bytes, shown);
}

async function readXlsx(bytes: Buffer, shown: string): Promise<JobSheet> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (e) {
    throw new ConfigError([`${shown}: not a readable .xlsx workbook (${(e as Error).message.split("\n")[0]})`]);
  }
  const visible = workbook.worksheets.filter((w) => w.state === undefined || w.state === "visible");
  const sheet = visible.find((w) => w.name.trim().toLowerCase() === "jobs") ?? visible[0];
  if (!sheet) throw new ConfigError([`${shown}: the workbook has no visible worksheet`]);
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const cells: SheetCell[] = [];
    for (let c = 1; c <= sheet.columnCount; c++) {
      const cell = row.getCell(c);
      // A merged range's other cells hold nothing of their own: each takes its master's value.
      cells.push(cellOf(cell.isMerged ? cell.master.value : cell.value));
    }
    while (cells.length && cells.at(-1) === null) cells.pop();
    if (cells.length) rows.push({ number, cells });
  });
  return { file: shown, sheet: sheet.name, rows };
}

/** An exceljs cell value as saved. */
function cellOf(value: ExcelJS.CellValue): SheetCell {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : { error: String(value) };
  if (typeof value === "string") return blankToNull(value);
  if (typeof value === "boolean") return value;
  if (value instanceof Date) return dateCell(value);
  const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; formula?: string; sharedFormula?: string; error?: string };
  if (v.error !== undefined) return { error: v.error };
  if (v.richText) return blankToNull(v.richText.map((r) => r.text).join(""));
  if (v.formula !== undefined || v.sharedFormula !== undefined) {
    // A workbook saved by a spreadsheet program stores each formula's last result; one written by a
    // library may not, and Mallard does not evaluate formulas.
    return v.result === undefined || v.result === null ? { formula: v.formula ?? v.sharedFormula ?? "" } : cellOf(v.result as ExcelJS.CellValue);
  }
  if (v.text !== undefined) return cellOf(v.text as ExcelJS.CellValue);
  return String(value);
}

const blankToNull = (text: string): SheetCell => (text.trim() === "" ? null : text);

async function readCsv(bytes: Buffer, shown: string): Promise<JobSheet> {
  const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
  const header = text.slice(0, text.search(/\r?\n|$/));
  // Excel saves CSV with ";" where the decimal mark is a comma; the header line says which was used.
  const delimiter = (header.match(/;/g)?.length ?? 0) > (header.match(/,/g)?.length ?? 0) ? ";" : ",";
  const workbook = new ExcelJS.Workbook();
  let sheet: ExcelJS.Worksheet;
  try {
    // Every field stays text (exceljs would otherwise turn "08" into 8 and "1-2" into a date).
    sheet = await workbook.csv.read(Readable.from([text]), { parserOptions: { delimiter }, map: (v: string) => (v.trim() === "" ? null : v) });
  } catch (e) {
    throw new ConfigError([`${shown}: not readable as CSV (${(e as Error).message.split("\n")[0]})`]);
  }
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const cells = (row.values as unknown[]).slice(1).map((v) => (typeof v === "string" ? v : null));
    while (cells.length && cells.at(-1) === null) cells.pop();
    if (cells.length) rows.push({ number, cells });
  });
  return { file: shown, rows };
}
