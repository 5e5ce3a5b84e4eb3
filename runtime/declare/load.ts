// Read a pipeline declaration from a TypeScript module (its default export) or a YAML file. The one loader
// (runtime/config/load-pipeline.ts) reads through here; the Functions bundle, which imports the module or
// embeds the YAML text at build time, turns it into a pipeline with `declarationFrom` (embedded.ts), which
// builds on the same functions. The YAML reader loads only for a YAML file: a TypeScript declaration's
// `mallard plan` never parses the yaml package.

import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { ConfigError, MallardError } from "../errors.ts";
import { importModule } from "./import-typescript.ts";
import type { Pipeline } from "./pipeline.ts";

/** A declaration already read: YAML text, or the namespace of an imported TypeScript module. */
export type DeclarationSource =
  | { readonly format: "yaml"; readonly text: string; readonly shown: string }
  | { readonly format: "module"; readonly module: { readonly default?: unknown }; readonly shown: string };

/** A YAML file (by its extension) or a TypeScript module. */
export function isYamlDeclaration(file: string): boolean {
  const ext = extname(file).toLowerCase();
  return ext === ".yml" || ext === ".yaml";
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
