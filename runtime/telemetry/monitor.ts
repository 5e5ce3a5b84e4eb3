// The monitor: structured log lines carrying run and task ids, per-task metrics (rows, bytes, duration),
// and events for finished and failed runs. Lines go to a log sink (the console, or the Functions
// context's log); events and metrics also go to Application Insights when it is configured.

import { redact } from "../errors.ts";
import type { RunRecord, TaskRecord } from "../state/run-records.ts";
import { TELEMETRY } from "../declare/deployment.ts";
import { formatProgress, type ProgressSnapshot } from "./progress.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Ids and numbers carried by every line of a run or task, so a query can follow one run. */
export interface LogFields {
  readonly runId?: string;
  readonly pipeline?: string;
  readonly task?: string;
  readonly attempt?: number;
  readonly [key: string]: string | number | boolean | undefined;
}

export interface LogLine extends LogFields {
  readonly ts: string;
  readonly level: LogLevel;
  readonly msg: string;
}

/** Where log lines go. */
export type LogSink = (line: LogLine) => void;

/** Where events and metrics go besides the log (Application Insights). */
export interface TelemetrySink {
  event(name: string, properties: Record<string, string>, measurements?: Record<string, number>): void;
  metric(name: string, value: number, properties: Record<string, string>): void;
  exception(error: Error, properties: Record<string, string>): void;
  flush(): Promise<void>;
}

export { TELEMETRY } from "../declare/deployment.ts";

/** One JSON object per line on stdout (what the Functions host and CI logs keep). */
export const jsonLines: LogSink = (line) => {
  const text = JSON.stringify(line);
  if (line.level === "error") console.error(text);
  else console.log(text);
};

export interface MonitorOptions {
  sink?: LogSink;
  telemetry?: TelemetrySink;
  fields?: LogFields;
  /** Lowest level written. @default "info" */
  level?: LogLevel;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class Monitor {
  readonly fields: LogFields;
  private readonly sink: LogSink;
  private readonly level: LogLevel;

  constructor(private readonly options: MonitorOptions = {}) {
    this.sink = options.sink ?? jsonLines;
    this.fields = options.fields ?? {};
    this.level = options.level ?? "info";
  }

  get telemetry(): TelemetrySink | undefined {
    return this.options.telemetry;
  }

  /** A monitor whose lines also carry these fields (a run, then a task). */
  with(fields: LogFields): Monitor {
    return new Monitor({ ...this.options, fields: { ...this.fields, ...fields } });
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const line: Record<string, string | number | boolean | undefined> = { ts: new Date().toISOString(), level, msg: message, ...this.fields, ...fields };
    for (const [key, value] of Object.entries(line)) if (typeof value === "string") line[key] = redact(value);
    this.sink(line as unknown as LogLine);
  }
  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }

  /** A task ended: one line with its numbers, metrics per number, an event when it failed. */
  taskFinished(record: TaskRecord): void {
    const numbers = {
      rowsIn: record.rowsIn, rowsOut: record.rowsOut, bytes: record.bytes, durationMs: record.durationMs,
    };
    const failedChecks = record.checks?.filter((c) => !c.passed).map((c) => `${c.name}(${c.severity})`).join(",");
    const fields = {
      task: record.task, stage: record.stage, status: record.status, attempt: record.attempt,
      ...numbers, failedChecks: failedChecks || undefined, error: record.error,
    };
    this.log(record.status === "failed" ? "error" : "info", `task ${record.task} ${record.status}`, fields);
    if (record.reconciliation && record.reconciliation.status !== "inSync") {
      const r = record.reconciliation;
      this.warn(`task ${record.task}: reconciliation ${r.status}`, {
        task: record.task, stage: record.stage, status: r.status, missing: r.missing, changed: r.changed, deleted: r.deleted, error: r.error,
      });
    }
    const telemetry = this.options.telemetry;
    if (!telemetry) return;
    const properties = this.properties({ task: record.task, stage: record.stage, status: record.status });
    for (const [key, value] of Object.entries(numbers) as [keyof typeof numbers, number | undefined][]) {
      if (value !== undefined) telemetry.metric(TELEMETRY.metrics[key], value, properties);
    }
    const measurements = Object.fromEntries(Object.entries(numbers).filter(([, v]) => v !== undefined)) as Record<string, number>;
    for (const check of record.checks ?? []) {
      if (!check.passed && check.severity === "fail") {
        telemetry.event(TELEMETRY.checkFailed, { ...properties, check: check.name }, { failingRows: check.failingRows });
      }
    }
    const reconciliation = record.reconciliation;
    if (reconciliation) {
      const props = { ...properties, status: reconciliation.status, ...(reconciliation.error ? { error: redact(reconciliation.error) } : {}) };
      const counts = {
        sourceRows: reconciliation.source?.rows, lakeRows: reconciliation.lake?.rows, missing: reconciliation.missing, changed: reconciliation.changed,
        deleted: reconciliation.deleted, pending: reconciliation.pending, durationMs: reconciliation.durationMs,
      };
      const numbers = Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)) as Record<string, number>;
      telemetry.event(TELEMETRY.reconciled, props, numbers);
      if (reconciliation.status !== "inSync") telemetry.event(TELEMETRY.reconcileDrift, props, numbers);
    }
    if (record.status === "failed") {
      telemetry.event(TELEMETRY.taskFailed, { ...properties, error: redact(record.error ?? "") }, measurements);
    } else {
      telemetry.event(TELEMETRY.taskFinished, properties, measurements);
    }
  }

  /** A task's progress (the caller bounds the rate): a line, and the progress event. */
  taskProgress(task: string, stage: string, snapshot: ProgressSnapshot): void {
    this.info(`task ${task}: ${formatProgress(snapshot)}`, { task, stage, rows: snapshot.rows, total: snapshot.total, rowsPerSecond: Math.round(snapshot.rowsPerSecond), etaSeconds: snapshot.etaSeconds === undefined ? undefined : Math.round(snapshot.etaSeconds) });
    const measurements: Record<string, number> = { rows: snapshot.rows, rowsPerSecond: snapshot.rowsPerSecond, elapsedMs: snapshot.elapsedMs };
    if (snapshot.total !== undefined) measurements.total = snapshot.total;
    if (snapshot.etaSeconds !== undefined) measurements.etaSeconds = snapshot.etaSeconds;
    this.options.telemetry?.event(TELEMETRY.progress, this.properties({ task, stage }), measurements);
  }

  /** A run ended: a line, and the run event (MallardRunFailed is what alert rules watch). */
  runFinished(run: RunRecord): void {
    const tasks = Object.values(run.tasks);
    const count = (status: string) => tasks.filter((t) => t.status === status).length;
    const durationMs = run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : undefined;
    const fields = {
      runId: run.runId, pipeline: run.pipeline, status: run.status, durationMs,
      succeeded: count("succeeded"), failed: count("failed"), skipped: count("skipped"),
      failedStage: run.error?.stage, error: run.error?.message,
    };
    // An abandoned run (its process died, its lease expired) needs an operator as much as a failed one.
    const failed = run.status === "failed" || run.status === "abandoned";
    this.log(failed ? "error" : "info", `run ${run.runId} ${run.status}`, fields);
    const telemetry = this.options.telemetry;
    if (!telemetry) return;
    const properties = this.properties({ runId: run.runId, pipeline: run.pipeline, status: run.status, trigger: run.trigger });
    const measurements = { durationMs: durationMs ?? 0, succeeded: fields.succeeded, failed: fields.failed, skipped: fields.skipped };
    if (failed) {
      const props = { ...properties, stage: run.error?.stage ?? "", error: redact(run.error?.message ?? "") };
      telemetry.event(TELEMETRY.runFailed, props, measurements);
      telemetry.exception(new Error(`run ${run.runId} of ${run.pipeline} ${run.status} at ${run.error?.stage ?? "?"}: ${props.error}`), props);
    } else {
      telemetry.event(TELEMETRY.runFinished, properties, measurements);
    }
  }

  async flush(): Promise<void> {
    await this.options.telemetry?.flush();
  }

  private properties(extra: Record<string, string | undefined>): Record<string, string> {
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...this.fields, ...extra })) {
      if (value !== undefined) all[key] = String(value);
    }
    return all;
  }
}
