// A StageContext for running one stage's code directly in a test, against a real lake and engine.
import type { Pipeline } from "../../runtime/declare/pipeline.ts";
import type { Stage } from "../../runtime/declare/stages.ts";
import type { Engine } from "../../runtime/engine/engine.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import { openConnector } from "../../runtime/orchestration/connectors.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";
import type { StageContext } from "../../runtime/stages/context.ts";

export function stageContext<S extends Stage>(args: { pipeline: Pipeline; stage: S; lake: Lake; engine: Engine; projectRoot?: string; runId?: string; fullRefresh?: boolean }): StageContext<S> {
  const secrets = new SecretChain([]);
  return {
    pipeline: args.pipeline, stage: args.stage, lake: args.lake, engine: args.engine, secrets,
    runId: args.runId ?? `test-${Date.now()}`, projectRoot: args.projectRoot ?? process.cwd(), fullRefresh: args.fullRefresh ?? false,
    connector: (source) => openConnector(source, secrets),
    log: () => undefined,
  };
}
