// What a stage's run code is given, and what it reports back. The same context is built by the CLI's
// local runner and by the Azure executor, so a stage runs the same way in both.

import type { Pipeline } from "../declare/pipeline.ts";
import type { Stage } from "../declare/stages.ts";
import type { Engine } from "../engine/engine.ts";
import type { Lake } from "../lake/lake.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import type { CheckResult } from "../state/run-records.ts";
import type { CursorPosition, SourceConnector } from "../sources/source.ts";
import type { Source } from "../declare/sources.ts";

export interface StageContext<S extends Stage = Stage> {
  readonly pipeline: Pipeline;
  readonly stage: S;
  readonly runId: string;
  readonly lake: Lake;
  readonly engine: Engine;
  readonly secrets: SecretChain;
  /** Folder SQL file paths are relative to. */
  readonly projectRoot: string;
  /** Reload bronze from scratch and rebuild models, ignoring checkpoints. */
  readonly fullRefresh: boolean;
  /** A connector for a source, opened once per run and shared by its tables. */
  connector(source: Source): Promise<SourceConnector>;
  /** Progress for the terminal or the log; never pass secrets. */
  log(message: string): void;
}

export interface StageOutcome {
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly bytes: number;
  readonly checks?: readonly CheckResult[];
  readonly quarantined?: number;
  readonly checkpointBefore?: CursorPosition | null;
  readonly checkpointAfter?: CursorPosition | null;
  readonly version?: string;
  readonly note?: string;
}

export type StageRunner<S extends Stage = Stage> = (ctx: StageContext<S>) => Promise<StageOutcome>;
