// Names the runtime sends to Application Insights and Mallard's alert rules query. They are a contract
// with runtime/telemetry; the day they move into runtime/declare/deployment.ts, import them from there.

/** Custom events (Application Insights `customEvents.name`). */
export const EVENTS = {
  /** A run ended failed; customDimensions: pipeline, runId, stage, error. */
  runFailed: "MallardRunFailed",
  /** A check with severity `fail` failed; customDimensions: pipeline, runId, stage, check. */
  checkFailed: "MallardCheckFailed",
  /** A task failed; customDimensions: pipeline, runId, task, stage, error. */
  taskFailed: "MallardTaskFailed",
} as const;

/**
 * App settings that carry schedules. The timer trigger reads `%MALLARD_SCHEDULE%`; a bronze table with
 * its own schedule adds `MALLARD_SCHEDULE__<stage>`.
 */
export const SCHEDULE_SETTINGS = {
  pipeline: "MALLARD_SCHEDULE",
  stage: (stage: string) => `MALLARD_SCHEDULE__${stage}`,
} as const;
