// Loads the pipeline declaration for the Pulumi program: the module's default export, checked to be a
// pipeline. Only the declaration is loaded; the engine never enters the Pulumi program.

import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Pipeline } from "../runtime/declare/index.ts";

export async function loadDeclaration(path: string, projectRoot = process.cwd()): Promise<Pipeline> {
  const ext = extname(path).toLowerCase();
  if (ext === ".yml" || ext === ".yaml") {
    throw new Error(`mallard:pipeline: ${path}: the Pulumi program loads TypeScript declarations; YAML is read by the CLI (its parser lives beside the engine)`);
  }
  const module = (await import(pathToFileURL(resolve(projectRoot, path)).href)) as { default?: unknown };
  const value = module.default;
  if (typeof value !== "object" || value === null || (value as { kind?: unknown }).kind !== "pipeline") {
    throw new Error(`mallard:pipeline: ${path}: the default export must be a pipeline (export default pipeline("name", { … }))`);
  }
  return value as Pipeline;
}
