// `mallard report`: the HTML report of a run (default the newest), written to --out or into the lake
// beside the run records. Prints where it is.

import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { redact } from "../../errors.ts";
import { openLake } from "../../lake/open-lake.ts";
import { collectRunReport } from "../../report/collect.ts";
import { renderRunReport } from "../../report/run-report.ts";
import { runReportPath } from "../../report/write.ts";
import type { CommonOptions } from "../main.ts";

export interface ReportOptions extends CommonOptions {
  run?: string;
  out?: string;
}

export async function reportCommand(options: ReportOptions): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const lake = await openLake(options.lake);
  const data = await collectRunReport(pipeline, lake, options.run);
  const page = renderRunReport(data);
  let location: string;
  if (options.out) {
    location = resolve(options.out);
    await writeFile(location, page);
  } else {
    const path = runReportPath(pipeline.name, data.run.runId);
    await lake.writeText(path, page);
    location = lake.externalPath(path);
  }
  process.stdout.write(`report of run ${data.run.runId} (${data.run.status}): ${redact(location)}\n`);
  return 0;
}
