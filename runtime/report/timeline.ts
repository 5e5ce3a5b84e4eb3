// The run's timeline (a Gantt chart) as inline SVG: a row per task in start order, a bar from its start
// to its end coloured by status. Partitions sit under their stage; a task that needed more than one
// attempt is hatched and says so.

import type { RunRecord, TaskRecord } from "../state/run-records.ts";
import { clip } from "./dag.ts";
import { type Content, html, type Markup } from "./html.ts";
import { STATUS_COLOURS } from "./status.ts";
import { formatDuration } from "./format.ts";

const ROW = 22;
const LABEL = 190;
const CHART = 720;
const AXIS = 24;
const TICKS = 6;

export function timelineSvg(run: RunRecord): Markup {
  const tasks = orderTasks(Object.values(run.tasks));
  const start = Date.parse(run.startedAt);
  const ends = tasks.map((t) => (t.endedAt ? Date.parse(t.endedAt) : Number.NaN)).filter((t) => !Number.isNaN(t));
  const end = Math.max(run.endedAt ? Date.parse(run.endedAt) : start, ...ends, start + 1);
  const span = end - start;
  const x = (time: number) => LABEL + ((time - start) / span) * CHART;
  const height = AXIS + tasks.length * ROW + 8;
  const width = LABEL + CHART + 110;

  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => {
    const at = LABEL + (i / TICKS) * CHART;
    return html`<line class="tick" x1="${at}" x2="${at}" y1="${AXIS - 4}" y2="${height}"/><text class="axis" x="${at}" y="${AXIS - 8}" text-anchor="middle">${formatDuration((span * i) / TICKS)}</text>`;
  });
  const rows = tasks.map((t, i) => {
    const y = AXIS + i * ROW;
    const partition = /#(\d+)$/.exec(t.task);
    const label = partition ? `  └ partition ${partition[1]}` : t.task;
    const retried = (t.attempt ?? 1) > 1;
    const title = `${t.task}: ${t.status}${t.durationMs !== undefined ? `, ${formatDuration(t.durationMs)}` : ""}${retried ? `, attempt ${t.attempt}` : ""}`;
    const began = t.startedAt ? Date.parse(t.startedAt) : undefined;
    const finished = t.endedAt ? Date.parse(t.endedAt) : began !== undefined ? end : undefined;
    const bar: Content = began === undefined || finished === undefined
      ? html`<text class="note" x="${LABEL + 4}" y="${y + 15}">${t.status}${t.note ? `: ${clip(t.note, 90)}` : ""}</text>`
      : [html`<rect class="bar${retried ? " retried" : ""}" data-task="${t.task}" x="${x(began)}" y="${y + 4}" width="${Math.max(2, x(finished) - x(began))}" height="${ROW - 8}" rx="3" fill="${STATUS_COLOURS[t.status]}"><title>${title}</title></rect>`,
        retried ? html`<rect x="${x(began)}" y="${y + 4}" width="${Math.max(2, x(finished) - x(began))}" height="${ROW - 8}" fill="url(#hatch)" pointer-events="none"/>` : undefined,
        html`<text class="note" x="${x(finished) + 4}" y="${y + 15}">${t.durationMs !== undefined ? formatDuration(t.durationMs) : ""}${retried ? ` · attempt ${t.attempt}` : ""}</text>`];
    return html`<g class="row" data-task="${t.task}"><text class="label${partition ? " partition" : ""}" x="4" y="${y + 15}" xml:space="preserve">${clip(label, 26)}</text>${bar}</g>`;
  });
  return html`<svg id="timeline" class="timeline" role="img" aria-label="task timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2" opacity="0.6"/></pattern></defs>
${ticks}
${rows}
</svg>`;
}

/** Start order, each stage's partitions right after the first of them, tasks that never started last. */
export function orderTasks(tasks: readonly TaskRecord[]): TaskRecord[] {
  const time = (t: TaskRecord) => (t.startedAt ? Date.parse(t.startedAt) : Number.POSITIVE_INFINITY);
  const byStage = new Map<string, TaskRecord[]>();
  for (const t of tasks) (byStage.get(t.stage) ?? byStage.set(t.stage, []).get(t.stage)!).push(t);
  const groups = [...byStage.values()].map((g) => g.sort((a, b) => partitionIndex(a) - partitionIndex(b) || time(a) - time(b)));
  groups.sort((a, b) => Math.min(...a.map(time)) - Math.min(...b.map(time)) || a[0].task.localeCompare(b[0].task));
  return groups.flat();
}

/** The stage's own task first (it commits its partitions), then partitions by number. */
function partitionIndex(t: TaskRecord): number {
  const m = /#(\d+)$/.exec(t.task);
  return m ? Number(m[1]) + 1 : 0;
}
