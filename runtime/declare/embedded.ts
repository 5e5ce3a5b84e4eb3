// A declaration the Functions bundle embedded at build time (the imported module, or the YAML text), turned
// into a pipeline synchronously, as the host indexes functions, with the same checks as load.ts.

import { type DeclarationSource, pipelineOfModule } from "./load.ts";
import type { Pipeline } from "./pipeline.ts";
import { pipelineFromYaml } from "./yaml.ts";

/** The pipeline a declaration holds; `shown` names the file in messages. */
export function declarationFrom(source: DeclarationSource): Pipeline {
  return source.format === "yaml" ? pipelineFromYaml(source.text, source.shown) : pipelineOfModule(source.module, source.shown);
}
