// The Azure Functions (v4 programming model) app of one pipeline. It imports no pipeline: the bundle's
// entry, generated from the stack's declaration (infra/bundle/declaration.ts), hands it to startFunctions
// as the imported module or the YAML text.
// Five functions, all thin over runtime/orchestration/azure:
//   driver   timer, app setting MALLARD_SCHEDULE when set, else the declaration's schedule
//   executor storage queue MALLARD_TASK_QUEUE, one task per message
//   poison   storage queue <MALLARD_TASK_QUEUE>-poison, marks the task's run failed
//   runs     HTTP GET/POST /api/runs/{runId?}, start a run or read run records
//   run_report HTTP GET /api/runs/{runId}/report, a finished run's HTML report
// and one timer `driver_<stage>` per stage that declares its own schedule (a bronze table's `schedule`).

import { app } from "@azure/functions";
import { checkPipeline } from "../config/load-pipeline.ts";
import { APP_SETTINGS, DEFAULT_TASK_QUEUE, SCHEDULE_SETTINGS } from "../declare/deployment.ts";
import { declaredKind } from "../declare/kinds/index.ts";
import { declarationFrom } from "../declare/embedded.ts";
import type { DeclarationSource } from "../declare/load.ts";
import { describeError } from "../errors.ts";
import type { QueueRuntime } from "../orchestration/azure/context.ts";
import { createHandlers, type Handlers } from "./handlers.ts";
import { projectRoot, runtimeFromSettings } from "./instance.ts";

export interface FunctionsApp {
  readonly handlers: Handlers;
  /** The load-time checks of this instance; every handler waits for them and fails with their message. */
  readonly checked: Promise<void>;
}

/** Registers the declared pipeline's functions with the host; `env` holds the app settings. */
export function startFunctions(declaration: DeclarationSource, env: NodeJS.ProcessEnv = process.env): FunctionsApp {
  const pipeline = declarationFrom(declaration);
  // The checks `mallard plan` and `pulumi preview` run, once per instance, from startup on. No handler
  // touches the lake before they pass, so SQL they refuse never runs here, even if it was deployed
  // around them. A refusal is logged now and again by every invocation (the alerts see those fail).
  const checked = checkPipeline(pipeline, projectRoot(env));
  checked.catch((e: unknown) => console.error(`mallard: pipeline "${pipeline.name}" is refused: ${describeError(e)}`));

  let instance: Promise<QueueRuntime> | undefined;
  const handlers = createHandlers(() => {
    instance ??= checked.then(() => runtimeFromSettings(pipeline, env)).catch((e: unknown) => {
      instance = undefined; // a bad setting fixed by a restart should not need a new instance
      throw e;
    });
    return instance;
  });

  // App settings are read when the worker indexes the functions (a settings change restarts the app), as
  // literal values rather than `%NAME%` binding expressions, so nothing depends on how the host expands them.
  const setting = (name: string, fallback: string) => env[name] || fallback;
  const queueName = setting(APP_SETTINGS.taskQueue, DEFAULT_TASK_QUEUE);

  app.timer("driver", { schedule: setting(SCHEDULE_SETTINGS.pipeline, pipeline.schedule), handler: handlers.driver });
  for (const stage of pipeline.stages) {
    const schedule = declaredKind(stage).schedule(stage);
    if (schedule) {
      app.timer(`driver_${stage.name}`, { schedule: setting(SCHEDULE_SETTINGS.stage(stage.name), schedule), handler: handlers.stageDriver(stage.name) });
    }
  }
  app.storageQueue("executor", { queueName, connection: APP_SETTINGS.queueConnection, handler: handlers.executor });
  app.storageQueue("poison", { queueName: `${queueName}-poison`, connection: APP_SETTINGS.queueConnection, handler: handlers.poison });
  app.http("runs", { methods: ["GET", "POST"], authLevel: "function", route: "runs/{runId?}", handler: handlers.runs });
  app.http("run_report", { methods: ["GET"], authLevel: "function", route: "runs/{runId}/report", handler: handlers.runReport });
  return { handlers, checked };
}
