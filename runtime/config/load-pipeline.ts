// Load a pipeline declaration (TypeScript or YAML, see declare/load.ts), then run the load-time checks
// that need DuckDB's parser and the SQL files. Every problem becomes one ConfigError message naming the file, stage and field.

import { resolve } from "node:path";
import { readDeclaration } from "../declare/load.ts";
import type { Pipeline } from "../declare/pipeline.ts";
import { validateModels } from "./validate-models.ts";

export const DEFAULT_CONFIG = "configs/pipeline.ts";

export async function loadPipeline(configPath: string, projectRoot: string): Promise<Pipeline> {
  const file = resolve(projectRoot, configPath);
  const pipeline = await readDeclaration(file, configPath);
  await validateModels(pipeline, projectRoot);
  return pipeline;
}

