// A job sheet as a pipeline: each enabled row becomes a `bronze:` entry of the YAML form, appended to the
// stages of the companion YAML (which declares the pipeline's name, schedule and sources, connections as
// secret names, and any models), then validated and built by the YAML path itself, so a sheet is checked
// exactly like YAML. Problems in a row name the file, sheet, row and column.

import { ConfigError } from "../../errors.ts";
import { DECLARED_KINDS } from "../kinds/index.ts";
import type { Pipeline } from "../pipeline.ts";
import { parseYaml, pipelineFromData } from "../yaml.ts";
import { CellProblem, columnLetter, countCell, durationCell, fieldOfHeader, flagCell, JOB_COLUMNS, type JobField, listCell, textCell } from "./columns.ts";
import { type JobSheet, rowPlace, type SheetCell } from "./sheet.ts";

/** The companion YAML, already read. */
export interface Companion {
  readonly text: string;
  readonly shown: string;
}

/** A `bronze:` entry of the YAML form, and the row and columns it came from. */
interface RowEntry {
  readonly entry: Record<string, unknown>;
  readonly row: number;
  /** Header text of each field's column, as the sheet spells it. */
  readonly headers: Partial<Record<JobField, string>>;
}

/** The pipeline the companion declares with the sheet's rows as its bronze tables. */
export function pipelineFromJobSheet(sheet: JobSheet, companion: Companion): Pipeline {
  const { entries, problems } = sheetEntries(sheet);
  const { raw, stageLines } = parseYaml(companion.text, companion.shown);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError([`${companion.shown}: (top level): expected name, schedule and sources`]);
  const own = (raw as { stages?: unknown }).stages ?? [];
  if (!Array.isArray(own)) throw new ConfigError([`${companion.shown}: stages: expected a list (the job sheet's rows are added to it)`]);
  if (problems.length) throw new ConfigError(problems);
  if (entries.length === 0 && own.length === 0) throw new ConfigError([`${sheet.file}: no enabled rows (and ${companion.shown} declares no stages)`]);

  const at = (e: RowEntry, field?: string) => {
    const column = field && columnOfField(field);
    const header = column && (e.headers[column] ?? JOB_COLUMNS[column].shown);
    return `${rowPlace(sheet, e.row)}${header ? `, column "${header}"` : ""}`;
  };
  const places = [...own.map((_, i) => `stages[${i}]${stageLines[i] ? ` at line ${stageLines[i]}` : ""}`), ...entries.map((e) => rowPlace(sheet, e.row))];
  const byName = new Map(entries.map((e) => [e.entry.bronze as string, e]));
  try {
    const pipeline = pipelineFromData({ ...raw, stages: [...own, ...entries.map((e) => e.entry)] }, companion.shown, places, (index, field) => {
      const e = entries[index - own.length];
      return e && at(e, field);
    });
    // Just built and held by nothing else yet: each of the sheet's stages learns its row, so a problem
    // found at run time (a cursor column the table lacks) names the row too.
    for (const stage of pipeline.stages) {
      const e = stage.kind === "bronze.table" ? byName.get(stage.name) : undefined;
      if (e) (stage as { declaredAt?: string }).declaredAt = rowPlace(sheet, e.row);
    }
    return pipeline;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The builders name a stage and its field (`jobs.yml: [pipeline "shop": ]stage "orders": deletes: …`); a sheet's stage is a row.
    throw new ConfigError(error.problems.map((problem) => {
      if (!problem.startsWith(`${companion.shown}: `)) return problem;
      const m = /^(?:pipeline "[^"]*": )?stage "([^"]*)": (.*)$/s.exec(problem.slice(companion.shown.length + 2));
      const e = m && byName.get(m[1]);
      if (!m || !e) return problem;
      const rest = m[2];
      const field = /^([A-Za-z.]+)(?=[:,])/.exec(rest)?.[1];
      return `${at(e, field)}: ${field && columnOfField(field) ? rest.slice(field.length + 2) : rest}`;
    }));
  }
}

/** The sheet column a YAML field of a `bronze:` entry comes from. */
function columnOfField(field: string): JobField | undefined {
  const top = field.split(".")[0];
  if (field === "incremental.lookBack") return "lookBack";
  if (field === "partitions.column") return "partitionColumn";
  const map: Record<string, JobField> = {
    bronze: "stage", source: "source", table: "table", primaryKey: "primaryKey", incremental: "cursor", partitions: "partitions",
    deletes: "deletes", schedule: "schedule", columns: "textColumns", endpoint: "source", files: "source",
  };
  return map[top];
}

/** Every enabled row as a `bronze:` entry, or one problem per bad cell. */
function sheetEntries(sheet: JobSheet): { entries: RowEntry[]; problems: string[] } {
  const problems: string[] = [];
  const [header, ...rows] = sheet.rows;
  if (!header) return { entries: [], problems: [`${sheet.file}: ${sheet.sheet !== undefined ? `sheet "${sheet.sheet}" ` : ""}is empty (expected a header row: ${Object.values(JOB_COLUMNS).map((c) => c.shown).join(", ")})`] };

  // Header: which field each column holds.
  const fieldAt: (JobField | "ignored" | undefined)[] = [];
  const headers: Partial<Record<JobField, string>> = {};
  const columnOf: Partial<Record<JobField, number>> = {};
  header.cells.forEach((cell, i) => {
    const where = `${rowPlace(sheet, header.number)}, column ${columnLetter(i + 1)}`;
    let text: string | undefined;
    try {
      text = textCell(cell);
    } catch (e) {
      problems.push(`${where}: header: ${(e as Error).message}`);
      return;
    }
    if (text === undefined) return;
    const field = fieldOfHeader(text);
    fieldAt[i] = field;
    if (field === undefined) {
      problems.push(`${where}: unknown column "${text}" (columns: ${Object.values(JOB_COLUMNS).map((c) => c.shown).join(", ")}; notes, comment and headers starting with # are ignored)`);
    } else if (field !== "ignored") {
      if (headers[field] !== undefined) problems.push(`${where}: column "${text}" says the same as column "${headers[field]}" (${JOB_COLUMNS[field].shown})`);
      headers[field] = text;
      columnOf[field] = i;
    }
  });
  for (const field of ["source", "table", "primaryKey"] as const) {
    if (headers[field] === undefined) problems.push(`${rowPlace(sheet, header.number)}: no "${JOB_COLUMNS[field].shown}" column (the header row names: ${header.cells.filter((c) => c !== null).map(String).join(", ") || "nothing"})`);
  }
  if (problems.length) return { entries: [], problems };

  const entries: RowEntry[] = [];
  const named = new Map<string, number>();
  for (const row of rows) {
    const cell = (field: JobField): SheetCell => (columnOf[field] === undefined ? null : row.cells[columnOf[field]!] ?? null);
    const rowProblems: string[] = [];
    const failed = new Set<JobField>();
    const read = <T>(field: JobField, reader: (c: SheetCell) => T): T | undefined => {
      try {
        return reader(cell(field));
      } catch (e) {
        if (!(e instanceof CellProblem)) throw e;
        failed.add(field);
        rowProblems.push(`${rowPlace(sheet, row.number)}, column "${headers[field]}": ${e.message}`);
        return undefined;
      }
    };
    const problem = (field: JobField, message: string) => rowProblems.push(`${rowPlace(sheet, row.number)}, column "${headers[field] ?? JOB_COLUMNS[field].shown}": ${message}`);

    const stray = row.cells.findIndex((c, i) => c !== null && fieldAt[i] === undefined);
    if (stray !== -1) {
      problems.push(`${rowPlace(sheet, row.number)}, column ${columnLetter(stray + 1)}: a value under no header (name the column, or move the value)`);
      continue;
    }
    // A row with something only in columns for people (a note, a heading) is not a job.
    if (row.cells.every((c, i) => c === null || fieldAt[i] === "ignored")) continue;
    if (read("enabled", flagCell) === false) continue;

    const source = read("source", textCell);
    const table = read("table", textCell);
    const stage = read("stage", textCell);
    const loadText = read("load", textCell)?.toLowerCase();
    const cursor = read("cursor", listCell);
    const primaryKey = read("primaryKey", listCell);
    const lookBack = read("lookBack", durationCell);
    const partitions = read("partitions", countCell);
    const partitionColumn = read("partitionColumn", textCell);
    const deletesText = cell("deletes");
    const deletes = typeof deletesText === "string" && /^key\s*scan$/i.test(deletesText.trim()) ? true : read("deletes", flagCell);
    const schedule = read("schedule", textCell);
    const textColumns = read("textColumns", listCell);

    if (source === undefined && !failed.has("source")) problem("source", "empty (name a source of the companion YAML)");
    if (table === undefined && !failed.has("table")) problem("table", "empty (a schema-qualified table such as public.orders)");
    if (primaryKey === undefined && !failed.has("primaryKey")) problem("primaryKey", "empty (the column or columns that identify a row)");
    if (loadText !== undefined && loadText !== "full" && loadText !== "incremental") problem("load", `"${loadText}", expected full or incremental`);
    const incremental = loadText === "incremental" || (loadText === undefined && cursor !== undefined);
    if (incremental && cursor === undefined && !failed.has("cursor")) problem("cursor", "empty, but the load is incremental: name the cursor column(s)");
    if (loadText === "full" && cursor !== undefined) problem("cursor", "a full load reads every row and has no cursor: clear the cell or set load to incremental");
    if (lookBack !== undefined && !incremental) problem("lookBack", "a look-back is for incremental loads (this row has no cursor)");
    if (partitionColumn !== undefined && partitions === undefined) problem("partitionColumn", `says which column to split, but "${headers.partitions ?? "partitions"}" does not say into how many`);
    const splitOn = partitionColumn ?? (primaryKey?.length === 1 ? primaryKey[0] : undefined);
    if (partitions !== undefined && splitOn === undefined && primaryKey !== undefined) problem("partitions", `name the column to split on in a "partition column" column (the primary key has ${primaryKey.length} columns)`);
    if (rowProblems.length) {
      problems.push(...rowProblems);
      continue;
    }

    const name = stage ?? defaultStageName(table!);
    const first = named.get(name);
    if (first !== undefined) {
      problem(stage !== undefined ? "stage" : "table", `stage "${name}" is row ${first}'s name too${stage === undefined ? " (two tables of that name): give one a stage name in a \"stage\" column" : ""}`);
      problems.push(...rowProblems);
      continue;
    }
    named.set(name, row.number);
    const entry: Record<string, unknown> = {
      bronze: name, source, table, primaryKey,
      ...(incremental ? { incremental: { cursor, ...(lookBack !== undefined ? { lookBack } : {}) } } : {}),
      ...(partitions !== undefined ? { partitions: { kind: "chunks", column: splitOn, count: partitions } } : {}),
      ...(deletes ? { deletes: "keyScan" } : {}),
      ...(schedule !== undefined ? { schedule } : {}),
      ...(textColumns ? { columns: Object.fromEntries(textColumns.map((c) => [c, "text"])) } : {}),
    };
    // The bronze form's own schema first, so a wrong value names its column rather than "not one of the forms".
    const checked = DECLARED_KINDS["bronze.table"].yaml.schema.safeParse(entry);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const field = columnOfField(issue.path.map(String).join("."));
        const message = issue.path[0] === "bronze" ? `stage name "${name}": ${issue.message}${stage === undefined ? ` (the table's name; give a stage name in a "stage" column)` : ""}`
          : issue.path[0] === "partitions" && issue.path[1] === "count" ? `${partitions}: ${issue.message}` : issue.message;
        problem(field ?? "table", message);
      }
      problems.push(...rowProblems);
      continue;
    }
    entries.push({ entry, row: row.number, headers });
  }
  return { entries, problems };
}

/** `public.orders` → orders, `"Sales"."Order Lines"` → Order_Lines: the table's own name, as a stage name. */
function defaultStageName(table: string): string {
  const last = /(?:"((?:[^"]|"")*)"|([^."]+))\s*$/.exec(table);
  const name = (last?.[1]?.replace(/""/g, '"') ?? last?.[2] ?? table).trim().replace(/[^A-Za-z0-9_]+/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
