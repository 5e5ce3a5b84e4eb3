// Load-time checks that need the file system or DuckDB's parser: every model's SQL file exists, parses,
// and reads only its declared inputs. One message per problem, each naming the stage and field.

import type { Pipeline } from "../declare/pipeline.ts";
import { Engine } from "../engine/engine.ts";
import { ConfigError, MallardError } from "../errors.ts";
import { companionViews } from "../stages/inputs.ts";
import { modelSql } from "../stages/model-sql.ts";
import { tablesReadBy } from "./sql-tables.ts";

export async function validateModels(pipeline: Pipeline, projectRoot: string): Promise<void> {
  const problems: string[] = [];
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
  try {
    await engine.withConnection(async (con) => {
      for (const stage of pipeline.stages) {
        if (stage.kind !== "silver.model" && stage.kind !== "gold.model") continue;
        for (const check of stage.checks) {
          if (check.severity === "drop" && !["not_null", "accepted_values", "range", "sql_row", "unique"].includes(check.kind)) {
            problems.push(`stage "${stage.name}": checks.${check.name}: severity "drop" needs a row check (${check.kind} judges the whole table; use "warn" or "fail")`);
          }
        }
        if (!stage.sql) continue;
        let sql: string;
        try {
          sql = modelSql(stage, projectRoot);
        } catch (e) {
          if (e instanceof ConfigError) problems.push(...e.problems);
          else if (e instanceof MallardError) problems.push(e.message);
          else throw e;
          continue;
        }
        const parsed = await tablesReadBy(con, sql);
        if (parsed.error) {
          problems.push(`stage "${stage.name}": sql: ${parsed.error}`);
          continue;
        }
        const views = new Set(Object.entries(stage.inputs).flatMap(([v, input]) => [v, ...companionViews(input).map((s) => v + s)]));
        for (const table of parsed.tables) {
          if (!views.has(table)) {
            problems.push(`stage "${stage.name}": sql: reads "${table}", which is not an input (inputs: ${Object.keys(stage.inputs).join(", ") || "none"}); add it to from`);
          }
        }
      }
    });
  } finally {
    await engine.close();
  }
  if (problems.length) throw new ConfigError(problems);
}
