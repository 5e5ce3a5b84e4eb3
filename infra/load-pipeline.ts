// Loads the pipeline declaration for the Pulumi program: TypeScript (default export) or YAML, through the
// same reader the CLI uses. Only the declaration is loaded; the engine never enters the Pulumi program.

import { resolve } from "node:path";
import { readDeclaration } from "../runtime/declare/load.ts";
import type { Pipeline } from "../runtime/declare/index.ts";

export async function loadDeclaration(path: string, projectRoot = process.cwd()): Promise<Pipeline> {
  return readDeclaration(resolve(projectRoot, path), path);
}
