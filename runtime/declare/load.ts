// Read a pipeline declaration from a TypeScript module (its default export) or a YAML file. The one loader
// (runtime/config/load-pipeline.ts) reads through here; the Functions bundle, which imports the module or
// embeds the YAML text at build time, turns it into a pipeline with `declarationFrom` (embedded.ts), which
// builds on the same functions. The YAML reader loads only for a YAML file or a job sheet (.xlsx/.csv with
// its companion YAML, see job-sheet/): a TypeScript declaration's `mallard plan` never parses the yaml package.

import { access, readFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { ConfigError, MallardError } from "../errors.ts";
import { importModule } from "./import-typescript.ts";
import type { Pipeline } from "./pipeline.ts";
import type { JobSheet } from "./job-sheet/sheet.ts";

/**
 * A declaration already read: YAML text, a job sheet's cells with its companion YAML's text, or the
 * namespace of an imported TypeScript module. All but the module are plain data the bundle embeds.
 */
export type DeclarationSource =
  | { readonly format: "yaml"; readonly text: string; readonly shown: string }
  | { readonly format: "jobsheet"; readonly sheet: JobSheet; readonly companion: { readonly text: string; readonly shown: string }; readonly shown: string }
  | { readonly format: "module"; readonly module: { readonly default?: unknown }; readonly shown: string };

/** A YAML file (by its extension) or a TypeScript module. */
export function isYamlDeclaration(file: string): boolean {
  const ext = extname(file).toLowerCase();
  return ext === ".yml" || ext === ".yaml";
}

/** A job sheet (see job-sheet/): an .xlsx workbook or a CSV file, one bronze table per row. */
export function isJobSheet(file: string): boolean {
  const ext = extname(file).toLowerCase();
  return ext === ".xlsx" || ext === ".csv";
}

/** The pipeline a TypeScript module's default export holds; `shown` names the file in messages. */
export function pipelineOfModule(module: { readonly default?: unknown }, shown: string): Pipeline {
  const value = module.default;
  if (typeof value !== "object" || value === null || (value as { kind?: unknown }).kind !== "pipeline") {
    throw new ConfigError([`${shown}: default export must be a pipeline (export default pipeline("name", { … }))`]);
  }
  return value as Pipeline;
}

/** `file` is the absolute path; `shown` is how messages name it. */
export async function readDeclaration(file: string, shown: string): Promise<Pipeline> {
  if (isYamlDeclaration(file)) {
    const text = await readFile(file, "utf8").catch(() => {
      throw new ConfigError([`${shown}: config file not found`]);
    });
    const { pipelineFromYaml } = await import("./yaml.ts");
    return pipelineFromYaml(text, shown);
  }
  if (/\.(xls|xlsm|xlsb|ods|numbers)$/i.test(file)) {
    throw new ConfigError([`${shown}: a job sheet is read from .xlsx or .csv: save it as an Excel workbook (.xlsx)`]);
  }
  if (isJobSheet(file)) {
    const source = await readJobSheetSource(file, shown);
    const { pipelineFromJobSheet } = await import("./job-sheet/pipeline.ts");
    return pipelineFromJobSheet(source.sheet, source.companion);
  }
  let module: { default?: unknown };
  try {
    module = await importModule(file);
  } catch (e) {
    if (e instanceof MallardError) {
      throw e instanceof ConfigError ? new ConfigError(e.problems.map((p) => `${shown}: ${p}`)) : e;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(file)) throw new ConfigError([`${shown}: config file not found`]);
    throw new ConfigError([`${shown}: cannot load: ${(e as Error).message.split("\n")[0]}`]);
  }
  return pipelineOfModule(module, shown);
}

/** A YAML file's text, or a job sheet's cells and its companion's text: what the bundle embeds. */
export async function readDataDeclaration(file: string, shown: string): Promise<Exclude<DeclarationSource, { format: "module" }>> {
  if (isYamlDeclaration(file)) {
    const text = await readFile(file, "utf8").catch(() => {
      throw new ConfigError([`${shown}: config file not found`]);
    });
    return { format: "yaml", text, shown };
  }
  if (!isJobSheet(file)) throw new ConfigError([`${shown}: not a YAML file or a job sheet (.yml, .yaml, .xlsx, .csv)`]);
  return readJobSheetSource(file, shown);
}

/** A job sheet's cells and its companion YAML's text. */
async function readJobSheetSource(file: string, shown: string): Promise<Extract<DeclarationSource, { format: "jobsheet" }>> {
  // exceljs loads only for a job sheet: `mallard --help` and TypeScript pipelines start without it.
  const { readJobSheet } = await import("./job-sheet/read.ts");
  const sheet = await readJobSheet(file, shown);
  const companion = await companionOf(file, shown);
  return { format: "jobsheet", sheet, companion, shown };
}

/**
 * A job sheet's companion: `jobs.yml` (or `.yaml`) beside `jobs.xlsx`, declaring the pipeline's name,
 * schedule and sources (connections as secret names, never in the sheet) and any further stages.
 */
async function companionOf(file: string, shown: string): Promise<{ text: string; shown: string }> {
  const stem = basename(file, extname(file));
  const candidates = [".yml", ".yaml"].map((ext) => join(dirname(file), stem + ext));
  const found: string[] = [];
  for (const candidate of candidates) if (await access(candidate).then(() => true, () => false)) found.push(candidate);
  const shownOf = (path: string) => join(dirname(shown), basename(path));
  if (found.length === 0) {
    throw new ConfigError([`${shown}: no ${shownOf(candidates[0])} beside it: a job sheet names its sources, and ${shownOf(candidates[0])} declares them (name, schedule, sources; see the README's "Job sheets")`]);
  }
  if (found.length > 1) throw new ConfigError([`${shown}: both ${found.map(shownOf).join(" and ")} are beside it: keep one`]);
  return { text: await readFile(found[0], "utf8"), shown: shownOf(found[0]) };
}
