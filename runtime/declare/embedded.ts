// A declaration the Functions bundle embedded at build time (the imported module, the YAML text, or a job sheet's cells and companion text), turned
// into a pipeline synchronously, as the host indexes functions, with the same checks as load.ts.

import { pipelineFromJobSheet } from "./job-sheet/pipeline.ts";
import { type DeclarationSource, pipelineOfModule } from "./load.ts";
import type { Pipeline } from "./pipeline.ts";
import { pipelineFromYaml } from "./yaml.ts";

/** The pipeline a declaration holds; `shown` names the file in messages. */
export function declarationFrom(source: DeclarationSource): Pipeline {
  if (source.format === "yaml") return pipelineFromYaml(source.text, source.shown);
  if (source.format === "jobsheet") return pipelineFromJobSheet(source.sheet, source.companion);
  return pipelineOfModule(source.module, source.shown);
}
