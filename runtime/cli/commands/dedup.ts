// `mallard dedup explain <stage>`: the blocking advisor for a `silver.dedup` stage, on its input as the lake
// holds it now and with the stage's saved model (or one trained for the occasion). Reads only; writes nothing.

import { ConfigError } from "../../errors.ts";
import { Engine, lakeAccess } from "../../engine/engine.ts";
import { explainBlocking, formatAdvice, type DedupParams } from "../../dedup/index.ts";
import { registerInputs } from "../../stages/inputs.ts";
import { dedupParamsPath } from "../../stages/silver-dedup/run.ts";
import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { openLake } from "../../lake/open-lake.ts";

export interface DedupOptions extends CommonOptions {
  args: string[];
  samplePairs: number;
  format: "text" | "json";
}

export async function dedupCommand(options: DedupOptions): Promise<number> {
  const [action, name] = options.args;
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const stage = pipeline.stages.find((s) => s.name === name);
  if (!stage || stage.kind !== "silver.dedup") {
    const dedups = pipeline.stages.filter((s) => s.kind === "silver.dedup").map((s) => s.name);
    throw new ConfigError([`dedup ${action}: no silver.dedup stage "${name}" (dedup stages: ${dedups.join(", ") || "none"})`]);
  }
  const lake = await openLake(options.lake);
  const params = (await lake.readJson<DedupParams>(dedupParamsPath(stage.name)))?.value;
  const engine = await Engine.create(pipeline.engine, lakeAccess(lake));
  try {
    const advice = await engine.withConnection(async (con) => {
      await registerInputs(con, lake, { pipeline: pipeline.name, stage: stage.name }, stage.inputs);
      return explainBlocking(con, {
        input: stage.from.name, spec: stage.spec, prefix: `explain_${stage.name}`, stage: stage.name, params, samplePairs: options.samplePairs,
      });
    });
    process.stdout.write(options.format === "json" ? `${JSON.stringify(advice)}\n` : `${formatAdvice(advice)}\n`);
    return 0;
  } finally {
    await engine.close();
  }
}
