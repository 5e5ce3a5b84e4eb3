// The dedup engine's public surface: run a dedup, and save / load its trained parameters.

export { explainBlocking, formatAdvice, type BlockingAdvice, type RuleAdvice } from "./explain.ts";
export { runDedup, type DedupMetrics, type DedupPhase, type DedupRunOptions, type DedupRunResult } from "./run.ts";
export {
  paramsFromJson,
  paramsToJson,
  type ComparisonParams,
  type DedupParams,
  type LevelParams,
} from "./params.ts";
export type { TrainingReport, SessionReport } from "./train.ts";
