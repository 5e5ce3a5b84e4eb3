// What a finished run has to tell a person, as plain notices (a title, a line, facts), before any chat
// format: the run failed; a warn check crossed its threshold; a gold table became stale against its
// declared freshness; reconciliation found bronze drifted from its source. Conditions that persist
// (a check above its threshold, a stale table) are told when they start, not on every run after.

import type { Check } from "../declare/checks.ts";
import { durationSeconds } from "../declare/duration.ts";
import type { NotifyEvent } from "../declare/notify.ts";
import type { Pipeline } from "../declare/pipeline.ts";
import { redact } from "../errors.ts";
import { describeReconciliation } from "../reconcile/due.ts";
import type { RunRecord } from "../state/run-records.ts";

export interface Notice {
  readonly event: NotifyEvent;
  /** `error`: something broke; `warning`: something to look at. */
  readonly level: "error" | "warning";
  /** @example "shop: run 20261202T101500Z-ab12cd failed" */
  readonly title: string;
  /** One or two sentences. */
  readonly summary: string;
  /** Label → value, in order. */
  readonly facts: readonly (readonly [string, string])[];
}

/** What the notices of a run are computed from, besides the run itself. */
export interface NoticeInputs {
  readonly pipeline: Pipeline;
  readonly run: RunRecord;
  /** Earlier runs of the pipeline, newest first (the run itself left out). */
  readonly earlier: readonly RunRecord[];
  /** Gold stage → commit times (ms since epoch) of its Delta table, ascending. */
  readonly goldCommits: ReadonlyMap<string, readonly number[]>;
  /** Where the run's report is, for a fact. */
  readonly reportLink?: string;
}

/** How long a value may be in a notice (error messages can be long). */
const MAX_TEXT = 400;

export function runNotices(inputs: NoticeInputs): Notice[] {
  return [runFailed(inputs), warnCrossings(inputs), staleGold(inputs), reconciliationDrift(inputs)].filter((n): n is Notice => n !== undefined);
}

function runFacts(inputs: NoticeInputs): [string, string][] {
  const { run, pipeline } = inputs;
  const facts: [string, string][] = [["Pipeline", pipeline.name], ["Run", run.runId], ["Trigger", run.trigger], ["Started", `${run.startedAt.replace("T", " ").replace(/\.\d+Z$|Z$/, "")} UTC`]];
  if (run.endedAt) facts.push(["Took", formatSeconds((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000)]);
  if (inputs.reportLink) facts.push(["Report", inputs.reportLink]);
  return facts;
}

function runFailed(inputs: NoticeInputs): Notice | undefined {
  const { run, pipeline } = inputs;
  if (run.status !== "failed" && run.status !== "abandoned") return undefined;
  const tasks = Object.values(run.tasks);
  const count = (status: string) => tasks.filter((t) => t.status === status).length;
  const stage = run.error?.stage ?? "?";
  return {
    event: "run-failed",
    level: "error",
    title: `${pipeline.name}: run ${run.status}`,
    summary: run.status === "abandoned" ? `Run ${run.runId} was abandoned: ${clip(redact(run.error?.message ?? "its process stopped"))}` : `Run ${run.runId} failed at stage ${stage}.`,
    facts: [
      ...runFacts(inputs),
      ["Failed stage", stage],
      ["Error", clip(redact(run.error?.message ?? "failed"))],
      ["Tasks", `${count("succeeded")} succeeded, ${count("failed")} failed, ${count("skipped")} skipped`],
    ],
  };
}

/** The threshold of a warn check: its own `notifyAbove`, else the pipeline's `notify.warnAbove`. */
function thresholdOf(pipeline: Pipeline, stage: string, check: string): number {
  const declared = pipeline.stages.find((s) => s.name === stage);
  const checks: readonly Check[] = declared && "checks" in declared ? (declared.checks as readonly Check[]) : [];
  return checks.find((c) => c.name === check)?.notifyAbove ?? pipeline.notify?.warnAbove ?? 0;
}

function failingRowsIn(run: RunRecord, stage: string, check: string): number | undefined {
  for (const t of Object.values(run.tasks)) {
    if (t.stage !== stage) continue;
    const found = t.checks?.find((c) => c.name === check);
    if (found) return found.passed ? 0 : found.failingRows;
  }
  return undefined;
}

function warnCrossings(inputs: NoticeInputs): Notice | undefined {
  const { run, pipeline, earlier } = inputs;
  const crossed: [string, string][] = [];
  for (const t of Object.values(run.tasks)) {
    for (const c of t.checks ?? []) {
      if (c.severity !== "warn" || c.passed) continue;
      const threshold = thresholdOf(pipeline, t.stage, c.name);
      if (c.failingRows <= threshold) continue;
      // The last earlier run in which this check ran: above the threshold there too means no crossing.
      const before = earlier.map((r) => failingRowsIn(r, t.stage, c.name)).find((n) => n !== undefined);
      if (before !== undefined && before > threshold) continue;
      crossed.push([`${t.stage} · ${c.name}`, `${c.failingRows.toLocaleString("en-US")} failing rows (threshold ${threshold}${before !== undefined ? `, ${before} in the run before` : ""})${c.detail ? `: ${clip(redact(c.detail))}` : ""}`]);
    }
  }
  if (!crossed.length) return undefined;
  return {
    event: "warn-check",
    level: "warning",
    title: `${pipeline.name}: ${crossed.length === 1 ? "a warn check" : `${crossed.length} warn checks`} crossed ${crossed.length === 1 ? "its threshold" : "their thresholds"}`,
    summary: `In run ${run.runId}, more rows failed than the threshold allows; the rows were kept (severity warn).`,
    facts: [...crossed, ...runFacts(inputs)],
  };
}

/** Gold stage → the max age its freshness checks allow, in seconds (the strictest). */
export function goldExpectations(pipeline: Pipeline): Map<string, number> {
  const expectations = new Map<string, number>();
  for (const stage of pipeline.stages) {
    if (stage.kind !== "gold.model") continue;
    const ages = stage.checks.flatMap((c) => (c.kind === "freshness" ? [durationSeconds(c.maxAge)] : []));
    if (ages.length) expectations.set(stage.name, Math.min(...ages));
  }
  return expectations;
}

/**
 * Stale at `at`: the table's newest commit at that time is older than its max age. A table never
 * published is stale once the pipeline has existed longer than the max age (its first run is the start).
 */
function staleAt(commits: readonly number[], maxAgeMs: number, at: number, since: number): { stale: boolean; last?: number } {
  const last = commits.filter((c) => c <= at).at(-1);
  return { stale: at - (last ?? since) > maxAgeMs, last };
}

function staleGold(inputs: NoticeInputs): Notice | undefined {
  const { run, pipeline, earlier, goldCommits } = inputs;
  const now = Date.parse(run.endedAt ?? run.startedAt);
  const previous = earlier.find((r) => r.endedAt);
  const since = Math.min(Date.parse(run.startedAt), ...earlier.map((r) => Date.parse(r.startedAt)));
  const stale: [string, string][] = [];
  for (const [stage, maxAgeSeconds] of goldExpectations(pipeline)) {
    const commits = goldCommits.get(stage) ?? [];
    const maxAgeMs = maxAgeSeconds * 1000;
    const current = staleAt(commits, maxAgeMs, now, since);
    if (!current.stale) continue;
    if (previous && staleAt(commits, maxAgeMs, Date.parse(previous.endedAt!), since).stale) continue;
    const age = current.last === undefined ? "never published" : `last published ${new Date(current.last).toISOString().replace("T", " ").replace(/\.\d+Z$/, "")} UTC, ${formatSeconds((now - current.last) / 1000)} ago`;
    stale.push([stage, `${age} (expected within ${formatSeconds(maxAgeSeconds)})`]);
  }
  if (!stale.length) return undefined;
  return {
    event: "stale-gold",
    level: "warning",
    title: `${pipeline.name}: ${stale.length === 1 ? `gold table ${stale[0][0]} is stale` : `${stale.length} gold tables are stale`}`,
    summary: `As of run ${run.runId}, ${stale.length === 1 ? "a gold table is" : "gold tables are"} older than the freshness ${stale.length === 1 ? "its" : "their"} declaration expects.`,
    facts: [...stale, ...runFacts(inputs)],
  };
}

function reconciliationDrift(inputs: NoticeInputs): Notice | undefined {
  const { run, pipeline } = inputs;
  const drifted: [string, string][] = [];
  for (const t of Object.values(run.tasks)) {
    // An error is told too: a reconciliation that cannot run says nothing about the lake.
    if (t.reconciliation && t.reconciliation.status !== "inSync") drifted.push([t.stage, clip(redact(describeReconciliation(t.reconciliation)))]);
  }
  if (!drifted.length) return undefined;
  return {
    event: "reconciliation-drift",
    level: "warning",
    title: `${pipeline.name}: bronze drifted from its source (${drifted.map(([s]) => s).join(", ")})`,
    summary: `Reconciliation in run ${run.runId} found the lake no longer matches the source (or could not compare); a full refresh of the stage reloads it.`,
    facts: [...drifted, ...runFacts(inputs)],
  };
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1).replace(/\.0$/, "")} h`;
  return `${(s / 86400).toFixed(1).replace(/\.0$/, "")} days`;
}
