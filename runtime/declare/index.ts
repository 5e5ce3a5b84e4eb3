// What a pipeline declaration imports: `import { source, bronze, silver, gold, check, pipeline, secret } from "mallard"`.

export { secret, type SecretRef } from "./secret.ts";
export { source, type Source, type SqlSource, type PostgresSource, type PostgresSourceArgs, type MysqlSource, type MysqlSourceArgs, type SqlServerSource, type SqlServerSourceArgs, type OracleSource, type OracleSourceArgs } from "./sources.ts";
export type { FilesSource, FilesSourceArgs, FileFormat, CsvOptions } from "./files.ts";
export type { RestSource, RestSourceArgs, RestAuth, Paginator, SinceFormat, EndpointResource, SecretValue } from "./rest.ts";
export {
  bronze, silver, gold, isStage, partitionTasks,
  type Stage, type StageKind, type Layer, type BronzeTable, type BronzeTableArgs, type BronzeEndpointArgs, type BronzeFilesArgs, type SilverModel, type GoldModel,
  type ModelArgs, type SilverDedup, type Partitioning, type IncrementalArgs, type TransformFn,
} from "./stages.ts";
export { check, isRowCheck, type Check, type Severity, type RowCheck, type TableCheck } from "./checks.ts";
export { pipeline, inputsOf, type Pipeline, type PipelineArgs, type EngineSettings } from "./pipeline.ts";
export { parseDuration, type Duration } from "./duration.ts";
export type {
  SilverDedupArgs, DedupSpec, Comparison, ComparisonLevel, BlockingRule, SurvivorRule, NullHandling, DedupTrainingArgs,
} from "./dedup.ts";
export { webhook, NOTIFY_EVENTS, type NotifyArgs, type NotifyEvent, type NotifySettings, type Webhook, type WebhookArgs, type WebhookFormat, type WebhookRetry } from "./notify.ts";
