// A StageContext for running one stage's code directly in a test, against a real lake and engine. As the
// runners do, it opens one connector per source on first use; `closeConnectors()` closes them.
import type { Pipeline } from "../../runtime/declare/pipeline.ts";
import type { Stage } from "../../runtime/declare/stages.ts";
import type { Engine } from "../../runtime/engine/engine.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import { openConnector } from "../../runtime/orchestration/connectors.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";
import type { SourceConnector } from "../../runtime/sources/source.ts";
import type { StageContext } from "../../runtime/stages/context.ts";

export type TestStageContext<S extends Stage> = StageContext<S> & { closeConnectors(): Promise<void> };

export function stageContext<S extends Stage>(args: { pipeline: Pipeline; stage: S; lake: Lake; engine: Engine; projectRoot?: string; runId?: string; fullRefresh?: boolean }): TestStageContext<S> {
  const secrets = new SecretChain([]);
  const opened = new Map<string, Promise<SourceConnector>>();
  return {
    pipeline: args.pipeline, stage: args.stage, lake: args.lake, engine: args.engine, secrets,
    runId: args.runId ?? `test-${Date.now()}`, projectRoot: args.projectRoot ?? process.cwd(), fullRefresh: args.fullRefresh ?? false,
    connector: (source) => {
      if (!opened.has(source.name)) opened.set(source.name, openConnector(source, secrets));
      return opened.get(source.name)!;
    },
    log: () => undefined,
    closeConnectors: async () => {
      for (const connector of opened.values()) await connector.then((c) => c.close(), () => undefined);
      opened.clear();
    },
  };
}
