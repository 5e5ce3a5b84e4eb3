// Load a pipeline declaration from a TypeScript module (default export) or a YAML file, then run the
// load-time checks. Every problem becomes one ConfigError message naming the file, stage and field.

import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Pipeline } from "../declare/pipeline.ts";
import { ConfigError, MallardError } from "../errors.ts";
import { validateModels } from "./validate-models.ts";
import { pipelineFromYaml } from "./yaml-pipeline.ts";

export const DEFAULT_CONFIG = "configs/pipeline.ts";

export async function loadPipeline(configPath: string, projectRoot: string): Promise<Pipeline> {
  const file = resolve(projectRoot, configPath);
  const pipeline = await readDeclaration(file, configPath);
  await validateModels(pipeline, projectRoot);
  return pipeline;
}

async function readDeclaration(file: string, shown: string): Promise<Pipeline> {
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
