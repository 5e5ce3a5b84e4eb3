// Read a pipeline declaration from a TypeScript module (its default export) or a YAML file. The one loader
// (runtime/config/load-pipeline.ts) reads through here; the Functions bundle, which imports the module or
// embeds the YAML text at build time, turns it into a pipeline with the same `declarationFrom`.

import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { ConfigError, MallardError } from "../errors.ts";
import { importModule } from "./import-typescript.ts";
import type { Pipeline } from "./pipeline.ts";
import { pipelineFromYaml } from "./yaml.ts";

/** A declaration already read: YAML text, or the namespace of an imported TypeScript module. */
export type DeclarationSource =
  | { readonly format: "yaml"; readonly text: string; readonly shown: string }
  | { readonly format: "module"; readonly module: { readonly default?: unknown }; readonly shown: string };

/** A YAML file (by its extension) or a TypeScript module. */
export function isYamlDeclaration(file: string): boolean {
  const ext = extname(file).toLowerCase();
  return ext === ".yml" || ext === ".yaml";
}

/** The pipeline a declaration holds; `shown` names the file in messages. */
export function declarationFrom(source: DeclarationSource): Pipeline {
  if (source.format === "yaml") return pipelineFromYaml(source.text, source.shown);
  const value = source.module.default;
  if (typeof value !== "object" || value === null || (value as { kind?: unknown }).kind !== "pipeline") {
    throw new ConfigError([`${source.shown}: default export must be a pipeline (export default pipeline("name", { … }))`]);
  }
  return value as Pipeline;
}

/** `file` is the absolute path; `shown` is how messages name it. */
export async function readDeclaration(file: string, shown: string): Promise<Pipeline> {
  if (isYamlDeclaration(file)) {
    const text = await readFile(file, "utf8").catch(() => {
      throw new ConfigError([`${shown}: config file not found`]);
    });
    return declarationFrom({ format: "yaml", text, shown });
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
  return declarationFrom({ format: "module", module, shown });
}
