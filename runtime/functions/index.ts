// The Azure Functions (v4 programming model) entry: esbuild bundles this file with the pipeline
// declaration it imports. Four functions, all thin over runtime/orchestration/azure:
//   driver   timer, app setting MALLARD_SCHEDULE when set, else the declaration's schedule
//   executor storage queue MALLARD_TASK_QUEUE, one task per message
//   poison   storage queue <MALLARD_TASK_QUEUE>-poison, marks the task's run failed
//   runs     HTTP GET/POST /api/runs/{runId?}, start a run or read run records
// and one timer `driver_<stage>` per stage that declares its own schedule (a bronze table's `schedule`).

import { app } from "@azure/functions";
import pipeline from "../../configs/pipeline.ts";
import { APP_SETTINGS, DEFAULT_TASK_QUEUE, SCHEDULE_SETTINGS } from "../declare/deployment.ts";
import { declaredKind } from "../declare/kinds/index.ts";
import type { QueueRuntime } from "../orchestration/azure/context.ts";
import { createHandlers } from "./handlers.ts";
import { runtimeFromSettings } from "./instance.ts";

const env = process.env;
let instance: Promise<QueueRuntime> | undefined;
const handlers = createHandlers(() => {
  instance ??= runtimeFromSettings(pipeline, env).catch((e: unknown) => {
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
