// What a stage's run code is given, and what it reports back. The same context is built by the CLI's
// local runner and by the Azure executor, so a stage runs the same way in both.

import type { Pipeline } from "../declare/pipeline.ts";
import type { Stage } from "../declare/stages.ts";
import type { Engine } from "../engine/engine.ts";
import type { Lake } from "../lake/lake.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import type { CheckResult, ColumnLineage, DedupSummary, Reconciliation } from "../state/run-records.ts";
import type { CursorPosition, SourceConnector } from "../sources/source.ts";
import type { Source } from "../declare/sources.ts";
import { TaskAbandoned } from "../lake/publish-guard.ts";
import type { ProgressUpdate } from "../telemetry/progress.ts";

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
  /**
   * Rows read so far (and the source's estimate of the total), as often as convenient: the runner meters
   * it (a terminal's live line; in Functions a telemetry event per 10 s). Absent: nobody watches.
   */
  readonly progress?: (update: ProgressUpdate) => void;
  /**
   * Whether this task may still change what readers see: its run is active (not abandoned) and no other
   * executor took the task over. Asked right before each publish or commit. Absent: always.
   */
  readonly holdsTask?: () => Promise<boolean>;
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
  /** A file drop: files it left for the next run because they changed within the settle time. */
  readonly settling?: number;
  readonly note?: string;
  readonly dedup?: DedupSummary;
  readonly lineage?: ColumnLineage;
  readonly reconciliation?: Reconciliation;
}

/** Stop with TaskAbandoned, before a commit readers would see, when the task no longer holds its run. */
export async function assertHoldsTask(ctx: StageContext, what: string): Promise<void> {
  if (ctx.holdsTask && !(await ctx.holdsTask())) throw new TaskAbandoned(`${what}: run ${ctx.runId} is no longer active (abandoned, or its task was taken over)`);
}
