// The one loader: reads a pipeline declaration (TypeScript or YAML, see declare/load.ts) and runs every
// load-time check. `mallard` (the CLI), the Pulumi program (index.ts) and the Functions entry all come
// through here, so what `mallard plan` refuses, `pulumi preview` and the Functions host refuse too, with
// the same message. Every problem is one ConfigError line naming the file, stage and field.

import { resolve } from "node:path";
import { readDeclaration } from "../declare/load.ts";
import type { Pipeline } from "../declare/pipeline.ts";

export { DEFAULT_CONFIG } from "../declare/deployment.ts";

/** Reads the declaration at `configPath` (relative to `projectRoot`) and checks it: see checkPipeline. */
export async function loadPipeline(configPath: string, projectRoot: string): Promise<Pipeline> {
  const file = resolve(projectRoot, configPath);
  const pipeline = await readDeclaration(file, configPath);
  await checkPipeline(pipeline, projectRoot);
  return pipeline;
}

/**
 * The load-time checks beyond what building the declaration checks: those that need the SQL files and
 * DuckDB's parser. Add a new check here and every path runs it. The Functions entry, whose declaration
 * esbuild bundled, calls this directly at startup. (DuckDB loads only for SQL not seen passing before:
 * see sql-check-cache.ts.)
 */
export async function checkPipeline(pipeline: Pipeline, projectRoot: string): Promise<void> {
  const { validateModels } = await import("./validate-models.ts");
  await validateModels(pipeline, projectRoot);
}
