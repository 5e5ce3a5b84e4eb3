// What a run looks like in a terminal: live status lines on a TTY, plain timestamped log lines when
// not (CI, files), and a summary table at the end. Everything printed passes through `redact`.

import { styleText } from "node:util";
import { redact } from "../errors.ts";
import type { RunEvent } from "../orchestration/local-runner.ts";
import type { RunRecord, TaskRecord } from "../state/run-records.ts";
import { formatProgress } from "../telemetry/progress.ts";

type Out = { write(text: string): unknown; isTTY?: boolean };
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class RunDisplay {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly running = new Set<string>();
  private drawn = 0;
  private frame = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: Out = process.stdout, private readonly live = Boolean(out.isTTY)) {}

  handle = (event: RunEvent): void => {
    switch (event.type) {
      case "run-abandoned":
        this.print(`run ${event.record.runId} (started ${event.record.startedAt}) marked abandoned: ${event.record.error?.message ?? "its process ended"}`);
        break;
      case "run-start":
        this.print(`run ${event.runId}: ${event.tasks.length} tasks`);
        for (const t of event.tasks) {
          this.order.push(t.id);
          this.lines.set(t.id, `${styleText("dim", "·")} ${t.id}`);
        }
        if (this.live) this.timer = setInterval(() => this.redraw(), 100).unref();
        break;
      case "task-start":
        this.running.add(event.task.id);
        this.lines.set(event.task.id, `${event.task.id}: running`);
        if (!this.live) this.print(`${event.task.id}: started`);
        break;
      case "task-log":
        this.lines.set(event.task.id, `${event.task.id}: ${event.message}`);
        if (!this.live) this.print(event.message);
        break;
      case "task-progress":
        // Live only, and drawn by the redraw timer: a log (CI, a file) gets no progress lines at all.
        if (this.live && this.running.has(event.task.id)) this.lines.set(event.task.id, `${event.task.id}: ${formatProgress(event.progress)}`);
        return;
      case "task-end":
        this.running.delete(event.task.id);
        this.lines.set(event.task.id, taskLine(event.record));
        if (!this.live) this.print(stripAnsi(taskLine(event.record)));
        break;
      case "run-end":
        if (this.timer) clearInterval(this.timer);
        this.redraw();
        break;
      case "notice":
        // After the run's lines: printed below them, never redrawn.
        this.out.write(`${this.live ? "" : `${new Date().toISOString()} `}${event.level === "warn" ? "warning: " : ""}${redact(event.message)}\n`);
        return;
    }
    if (this.live) this.redraw();
  };

  private redraw(): void {
    if (!this.live) return;
    this.frame = (this.frame + 1) % FRAMES.length;
    const rows = this.order.map((id) => (this.running.has(id) ? `${styleText("cyan", FRAMES[this.frame])} ${this.lines.get(id)}` : this.lines.get(id)!));
    const up = this.drawn ? `\x1b[${this.drawn}A` : "";
    this.out.write(up + rows.map((r) => `\x1b[2K${redact(r)}\n`).join(""));
    this.drawn = rows.length;
  }

  private print(line: string): void {
    const text = redact(line);
    this.out.write(this.live ? `${text}\n` : `${new Date().toISOString()} ${text}\n`);
  }
}

function taskLine(r: TaskRecord): string {
  const symbol = { succeeded: styleText("green", "✓"), failed: styleText("red", "✗"), skipped: styleText("yellow", "-"), abandoned: styleText("yellow", "↯"), running: "…", pending: "·" }[r.status];
  const detail = r.status === "succeeded"
    ? `${fmt(r.rowsOut)} rows in ${seconds(r.durationMs)}${r.quarantined ? `, ${fmt(r.quarantined)} quarantined` : ""}${r.note ? ` (${r.note})` : ""}`
    : r.status === "failed" ? (r.error ?? "failed") : (r.note ?? r.status);
  return `${symbol} ${r.task}: ${detail}`;
}

/** The end-of-run table: stage, status, rows in/out, duration, checks. */
export function summaryTable(record: RunRecord): string {
  const head = ["stage", "status", "rows in", "rows out", "time", "checks"];
  const rows = Object.values(record.tasks).map((t) => [
    t.task, t.status, fmt(t.rowsIn), fmt(t.rowsOut), seconds(t.durationMs), checksCell(t),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(head), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function checksCell(t: TaskRecord): string {
  if (!t.checks?.length) return "";
  const failed = t.checks.filter((c) => !c.passed);
  if (!failed.length) return `${t.checks.length} passed`;
  return `${t.checks.length - failed.length} passed, ${failed.map((c) => `${c.name} ${c.severity === "fail" ? "FAILED" : c.severity === "drop" ? `dropped ${c.failingRows}` : `warned ${c.failingRows}`}`).join(", ")}`;
}

function fmt(n: number | undefined): string {
  return n === undefined ? "" : n.toLocaleString("en-US");
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "" : `${(ms / 1000).toFixed(1)}s`;
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
