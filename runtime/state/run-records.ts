// Run records: one JSON object per run under `_mallard/runs/<pipeline>/`, holding every task's status,
// rows, bytes, duration, checks and checkpoints. Written as the run goes, so a crash leaves what happened.

import type { Severity } from "../declare/checks.ts";
import { JsonDocuments } from "../lake/json-documents.ts";
import { type Lake, lakePath } from "../lake/lake.ts";
import type { CursorPosition } from "../sources/source.ts";

/** `abandoned`: its run stopped being active while it ran (lease expired, process died); it published nothing after that. */
export type TaskStatus = "pending" | "running" | "succeeded" | "failed" | "skipped" | "abandoned";
/** `abandoned`: the process running it died or its lease expired; a later run takes over from the committed checkpoints. */
export type RunStatus = "running" | "succeeded" | "failed" | "abandoned";

export interface CheckResult {
  readonly name: string;
  readonly kind: string;
  readonly severity: Severity;
  readonly passed: boolean;
  /** Rows that failed (row checks and unique), or 1 / 0 for table checks. */
  readonly failingRows: number;
  readonly detail?: string;
  /** A few failing rows (values as text, cut short), for the run report; absent when the check passed. */
  readonly sample?: readonly SampleRow[];
}

/** One row of a sample: column → value as text (null stays null). */
export type SampleRow = Readonly<Record<string, string | null>>;

export interface TaskRecord {
  readonly task: string;
  readonly stage: string;
  readonly kind: string;
  readonly status: TaskStatus;
  readonly attempt?: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly rowsIn?: number;
  readonly rowsOut?: number;
  readonly bytes?: number;
  readonly checks?: readonly CheckResult[];
  readonly checkpointBefore?: CursorPosition | null;
  readonly checkpointAfter?: CursorPosition | null;
  /** Quarantined rows (checks with severity drop). */
  readonly quarantined?: number;
  readonly version?: string;
  readonly error?: string;
  /** False when another attempt cannot help (bad configuration, a failed quality check). */
  readonly retryable?: boolean;
  /** A file drop: files it left for the next run because they changed within the settle time. */
  readonly settling?: number;
  readonly note?: string;
  /** A dedup stage's summary: pairs compared, match probabilities, cluster sizes, largest entities. */
  readonly dedup?: DedupSummary;
  /** A model's column lineage: each output column → the input columns (`view.column`) it is computed from. */
  readonly lineage?: ColumnLineage;
  /** A bronze table's reconciliation with its source, when one ran with this load. */
  readonly reconciliation?: Reconciliation;
  /** What this task would cost on Azure (runtime/cost/): resources used and their price. */
  readonly cost?: CostEstimate;
}

/** What a task or a run consumes on Azure, counted (runtime/cost/estimate.ts prices it). */
export interface CostUsage {
  /** Flex Consumption instance memory (GB) × duration (s). */
  readonly gbSeconds: number;
  readonly executions: number;
  readonly storageWrites: number;
  readonly storageReads: number;
  readonly storageLists: number;
  readonly bytesWritten: number;
  readonly queueOperations: number;
  readonly keyVaultOperations: number;
}

/**
 * What a task or a run consumes on Azure and what that costs at the prices in force (runtime/cost/prices.ts).
 * An estimate: GB-seconds assume one task per instance, storage operations are counted as the lake was
 * asked (each 4 MiB one operation), capacity is one month of the bytes written.
 */
export interface CostEstimate extends CostUsage {
  /** Each part's price and the total, in `currency`. */
  readonly amount: CostAmount;
  readonly currency: string;
  /** When the prices used were taken. */
  readonly pricesAsOf: string;
}

export interface CostAmount {
  readonly compute: number;
  readonly executions: number;
  readonly storageOperations: number;
  readonly storageCapacity: number;
  readonly queue: number;
  readonly keyVault: number;
  readonly total: number;
}

/**
 * Bronze compared with its source (runtime/reconcile/): row counts and checksums over the key and cursor
 * columns; when they differ, the keys behind the difference counted. `inSync` also when the only
 * differences are rows changed after the checkpoint (`pending`: the next load brings them).
 */
export interface Reconciliation {
  readonly status: "inSync" | "drift" | "error";
  readonly at: string;
  readonly durationMs: number;
  /** Columns the checksum covers: key, cursor, then any declared in reconcile.columns. */
  readonly columns: readonly string[];
  /** Source rows compared: those with a cursor at or before this (the committed checkpoint); all rows without. */
  readonly upTo?: CursorPosition;
  readonly source?: { readonly rows: number; readonly checksum: string };
  readonly lake?: { readonly rows: number; readonly checksum: string };
  /** How the source's side was computed: by the source itself, or from its columns read out. */
  readonly method?: "pushdown" | "scan";
  /** Source rows (up to the checkpoint) bronze does not have. */
  readonly missing?: number;
  /** Keys in both whose checked columns differ. */
  readonly changed?: number;
  /** Keys bronze has and the source no longer does. */
  readonly deleted?: number;
  /** Rows changed after the checkpoint: not drift, the next load brings them. */
  readonly pending?: number;
  /** A few drifted keys: the key columns and what is wrong (`problem`). */
  readonly sample?: readonly SampleRow[];
  readonly error?: string;
}

export type ColumnLineage = Readonly<Record<string, readonly string[]>>;

export interface DedupSummary {
  readonly records: number;
  readonly candidatePairs: number;
  readonly links: number;
  readonly entities: number;
  /** Pairs compared this run per match-probability bin, equal bins over [0, 1]. */
  readonly probabilityHistogram: readonly number[];
  /** Pairs at or above this probability are matches. */
  readonly threshold: number;
  /** Links are kept (in `<stage>__links`) at or above this probability. */
  readonly keptAbove: number;
  /** Entities per size: `[size, count]`, ascending by size. */
  readonly clusterSizes: readonly (readonly [number, number])[];
  readonly largest: readonly MergedEntity[];
}

export interface MergedEntity {
  readonly entityId: string;
  readonly size: number;
  /** Mean weight each compared column gave the links that joined this entity (positive: evidence for a match). */
  readonly contributions: Readonly<Record<string, number>>;
  /** The merged records: the id and the compared columns, as text. */
  readonly members: readonly SampleRow[];
}

/** The process a run lives in, when the run cannot outlive it (a local run, a run through the in-process queue). */
export interface RunOwner {
  readonly host: string;
  readonly pid: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunStatus;
  readonly trigger: string;
  readonly startedAt: string;
  /** Set for runs that die with their process: a dead owner means the run is abandoned. */
  readonly owner?: RunOwner;
  readonly endedAt?: string;
  readonly tasks: Readonly<Record<string, TaskRecord>>;
  readonly error?: { stage: string; message: string };
  /** The run's estimated Azure cost: its tasks' and the run's own (driver, run record, Key Vault), set when it closes. */
  readonly cost?: CostEstimate;
}

export function runRecordPath(pipeline: string, runId: string): string {
  return lakePath("_mallard", "runs", pipeline, `${runId}.json`);
}

/**
 * A run id that sorts by start time, to the millisecond (`20261202T145156123Z-k3x9qa`): two runs started
 * in the same second (a crashed run and the run that recovers it) must not be ordered by their random
 * suffix, since `latest()` and the publish guard's tie-break go by the id. No dot: ids are file names.
 */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, "")}-${Math.random().toString(36).slice(2, 8)}`;
}

export class RunRecords {
  private readonly documents: JsonDocuments<RunRecord>;

  constructor(private readonly lake: Lake) {
    // A closed run's record changes no more: only running ones are remembered.
    this.documents = new JsonDocuments<RunRecord>(lake, { remember: (record) => record.status === "running" });
  }

  async create(record: RunRecord): Promise<void> {
    await this.documents.create(runRecordPath(record.pipeline, record.runId), record);
  }

  async get(pipeline: string, runId: string): Promise<RunRecord | undefined> {
    return (await this.documents.read(runRecordPath(pipeline, runId)))?.value;
  }

  /**
   * Read-modify-write with an ETag condition, retried on a lost race: concurrent task updates all land.
   * Changes made here while a write of the same record is in flight are applied together in the next
   * one, starting from the version this process last wrote (lake/json-documents.ts): a run of 250 tasks
   * makes two updates a task, and each write parses and rewrites the whole record. `change` returns the
   * record it was given to write nothing. Resolves once a write holding the change is done, with the
   * record that write left.
   */
  async update(pipeline: string, runId: string, change: (record: RunRecord) => RunRecord): Promise<RunRecord> {
    const { value } = await this.documents.update<undefined>(runRecordPath(pipeline, runId), (current) => {
      if (!current) throw new Error(`run ${runId} of ${pipeline} has no record`);
      const next = change(current);
      return { next: next === current ? undefined : next, result: undefined };
    });
    return value!;
  }

  async setTask(pipeline: string, runId: string, task: TaskRecord): Promise<RunRecord> {
    return this.update(pipeline, runId, (r) => ({ ...r, tasks: { ...r.tasks, [task.task]: task } }));
  }

  /** The newest runs of a pipeline, newest first. */
  async latest(pipeline: string, limit = 10): Promise<RunRecord[]> {
    const paths: string[] = [];
    for await (const object of this.lake.list(lakePath("_mallard", "runs", pipeline))) {
      if (object.path.endsWith(".json")) paths.push(object.path);
    }
    paths.sort().reverse();
    const records: RunRecord[] = [];
    for (const path of paths.slice(0, limit)) {
      const found = await this.lake.readJson<RunRecord>(path);
      if (found) records.push(found.value);
    }
    return records;
  }
}
