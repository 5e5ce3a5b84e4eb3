// `mallard overview`: one page over the last runs (durations, rows, gold freshness, failing checks over
// time), written to --out or into the lake beside the run reports it links to.

import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { redact } from "../../errors.ts";
import { lakePath } from "../../lake/lake.ts";
import { openLake } from "../../lake/open-lake.ts";
import { collectOverview, renderOverview } from "../../report/overview.ts";
import type { CommonOptions } from "../main.ts";

export async function overviewCommand(options: CommonOptions & { runs: number; out?: string }): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const lake = await openLake(options.lake);
  const page = renderOverview(await collectOverview(pipeline, lake, options.runs));
  let location: string;
  if (options.out) {
    location = resolve(options.out);
    await writeFile(location, page);
  } else {
    const path = lakePath("_mallard", "reports", pipeline.name, "index.html");
    await lake.writeText(path, page);
    location = lake.externalPath(path);
  }
  process.stdout.write(`overview of ${pipeline.name}: ${redact(location)}\n`);
  return 0;
}
