// Read a pipeline declaration from a TypeScript module (its default export) or a YAML file. Shared by
// the CLI and the Pulumi program; it loads declarations only, never the engine.

import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, MallardError } from "../errors.ts";
import type { Pipeline } from "./pipeline.ts";
import { pipelineFromYaml } from "./yaml.ts";

/** `file` is the absolute path; `shown` is how messages name it. */
export async function readDeclaration(file: string, shown: string): Promise<Pipeline> {
  const ext = extname(file).toLowerCase();
  if (ext === ".yml" || ext === ".yaml") {
    const text = await readFile(file, "utf8").catch(() => {
      throw new ConfigError([`${shown}: config file not found`]);
    });
    return pipelineFromYaml(text, shown);
  }
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    if (e instanceof MallardError) {
      throw e instanceof ConfigError ? new ConfigError(e.problems.map((p) => `${shown}: ${p}`)) : e;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(file)) throw new ConfigError([`${shown}: config file not found`]);
    throw new ConfigError([`${shown}: cannot load: ${(e as Error).message.split("\n")[0]}`]);
  }
  const value = module.default;
  if (typeof value !== "object" || value === null || (value as { kind?: unknown }).kind !== "pipeline") {
    throw new ConfigError([`${shown}: default export must be a pipeline (export default pipeline("name", { … }))`]);
  }
  return value as Pipeline;
}
