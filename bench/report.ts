// `npm run bench:report`: the run report and the pipeline overview for a pipeline of 200 stages and 100
// runs (synthetic records shaped like real ones: checks with samples, lineage, a dedup summary), each
// generated in Node and then loaded and laid out in headless Chromium when /usr/bin/chromium is there.
// Target: under 2 s each. The limit beside it: JSON.parse + JSON.stringify of the same records (reading
// the data at all), measured in the same run. Noisy under load: the load average is printed, and CPU time
// beside wall time (this process's for generating; every Chromium process's, from /proc, for the browser),
// since on a shared machine wall time mostly measures the other processes.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { PipelineGraph, StageNode } from "../runtime/report/data.ts";
import { renderOverview } from "../runtime/report/overview.ts";
import { renderRunReport } from "../runtime/report/run-report.ts";
import type { RunRecord, TaskRecord } from "../runtime/state/run-records.ts";

const STAGES = 200;
const RUNS = 100;
const REPEAT = 5;
const TARGET_MS = 2000;
const CHROMIUM = process.env.MALLARD_CHROMIUM ?? "/usr/bin/chromium";

function graph(): PipelineGraph {
  const stages: StageNode[] = [];
  for (let i = 0; i < STAGES; i++) {
    const layer = i < 60 ? "bronze" : i < 160 ? "silver" : "gold";
    const pool = layer === "bronze" ? [] : stages.filter((s) => (layer === "silver" ? s.layer !== "gold" : true)).slice(-40);
    const inputs = pool.length ? [pool[(i * 7) % pool.length].name, pool[(i * 13) % pool.length].name].filter((v, k, a) => a.indexOf(v) === k) : [];
    stages.push({ name: `${layer}_${i}`, kind: layer === "bronze" ? "bronze.table" : `${layer}.model`, layer, inputs, views: Object.fromEntries(inputs.map((n) => [n, n])), description: `stage ${i}` });
  }
  return { name: "bench", schedule: "0 */15 * * * *", stages };
}

function run(g: PipelineGraph, r: number): RunRecord {
  const start = Date.parse("2026-11-01T00:00:00Z") + r * 900_000;
  const tasks: Record<string, TaskRecord> = {};
  g.stages.forEach((s, i) => {
    const from = start + (i % 40) * 1500;
    const failing = (i + r) % 17 === 0;
    tasks[s.name] = {
      task: s.name, stage: s.name, kind: s.kind, status: "succeeded", attempt: 1 + ((i + r) % 23 === 0 ? 1 : 0),
      startedAt: new Date(from).toISOString(), endedAt: new Date(from + 1200 + (i % 9) * 300).toISOString(), durationMs: 1200 + (i % 9) * 300,
      rowsIn: 10_000 + i, rowsOut: 9_990 + i, bytes: 250_000 + i * 10,
      checkpointBefore: s.layer === "bronze" ? { columns: ["updated_at", "id"], values: ["2026-11-01 00:00:00+00", String(i)] } : undefined,
      checkpointAfter: s.layer === "bronze" ? { columns: ["updated_at", "id"], values: ["2026-11-01 00:15:00+00", String(i + 100)] } : undefined,
      checks: s.layer === "bronze" ? undefined : [
        { name: "not_null(id)", kind: "not_null", severity: "fail", passed: true, failingRows: 0 },
        { name: "accepted_values(status)", kind: "accepted_values", severity: "warn", passed: !failing, failingRows: failing ? 3 : 0,
          sample: failing ? [{ id: "1", status: "<b>odd</b>", note: "x".repeat(100) }, { id: "2", status: "late", note: null }] : undefined },
      ],
      lineage: s.layer === "bronze" ? undefined : Object.fromEntries(Array.from({ length: 12 }, (_, c) => [`col_${c}`, s.inputs.map((n) => `${n}.col_${c}`)])),
    };
  });
  return { runId: `${new Date(start).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-bench${r}`, pipeline: "bench", status: r % 11 === 0 ? "failed" : "succeeded", trigger: "timer", startedAt: new Date(start).toISOString(), endedAt: new Date(start + 60_000 + (r % 7) * 4000).toISOString(), tasks };
}

interface Timing {
  ms: number;
  cpuMs: number;
}

/** Best of REPEAT, wall and CPU (user + system of this process) each. */
function best(f: () => unknown): Timing {
  let ms = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEAT; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    f();
    ms = Math.min(ms, performance.now() - t);
    const used = process.cpuUsage(c);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000);
  }
  return { ms, cpuMs };
}

/** CPU ms (user + system) of every process descended from this one: the Chromium this bench launched. */
function browserCpuMs(): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // clock ticks of 10 ms
    } catch {
      // The process ended while we listed.
    }
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    let p = parent.get(pid);
    while (p && p !== process.pid) p = parent.get(p);
    if (p === process.pid) total += ms;
  }
  return total;
}

async function browserMs(files: Record<string, string>): Promise<Record<string, Timing> | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const result: Record<string, Timing> = {};
    for (const [name, file] of Object.entries(files)) {
      let ms = Number.POSITIVE_INFINITY;
      let cpuMs = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const c = browserCpuMs();
        const t = performance.now();
        await page.goto(`file://${file}`, { waitUntil: "load" });
        // Force layout of the whole page, as scrolling through it would.
        await page.evaluate(() => document.body.getBoundingClientRect().height);
        ms = Math.min(ms, performance.now() - t);
        cpuMs = Math.min(cpuMs, browserCpuMs() - c);
        await page.close();
      }
      result[name] = { ms, cpuMs };
    }
    return result;
  } finally {
    await browser.close();
  }
}

const load = loadavg()[0];
const g = graph();
const runs = Array.from({ length: RUNS }, (_, r) => run(g, r)).reverse();
const generatedAt = new Date().toISOString();
const reportData = { graph: g, run: runs[0], schemaChanges: [], generatedAt };
const overviewData = { graph: g, runs, expectations: Object.fromEntries(g.stages.filter((s) => s.layer === "gold").map((s) => [s.name, 3600])), generatedAt };

const limit = best(() => JSON.parse(JSON.stringify(runs)));
const limitMs = limit.ms;
const reportGen = best(() => renderRunReport(reportData));
const overviewGen = best(() => renderOverview(overviewData));
const reportMs = reportGen.ms;
const overviewMs = overviewGen.ms;
const dir = await mkdtemp(join(tmpdir(), "mallard-bench-report-"));
const report = renderRunReport(reportData);
const overview = renderOverview(overviewData);
await writeFile(join(dir, "report.html"), report);
await writeFile(join(dir, "overview.html"), overview);
const browser = await browserMs({ report: join(dir, "report.html"), overview: join(dir, "overview.html") });
await rm(dir, { recursive: true, force: true });

const line = (name: string, t: Timing) => console.log(`${name.padEnd(34)} ${t.ms.toFixed(1).padStart(8)} ms wall ${t.cpuMs.toFixed(0).padStart(6)} ms CPU  ${(t.ms / limitMs).toFixed(1).padStart(6)}× the limit`);
console.log(`${STAGES} stages, ${RUNS} runs; load average ${load.toFixed(2)} on ${availableParallelism()} cores; best of ${REPEAT}\n`);
line("limit: parse+stringify all records", limit);
line("run report, generate", reportGen);
line("overview, generate", overviewGen);
if (browser) {
  line("run report, Chromium load+layout", browser.report);
  line("overview, Chromium load+layout", browser.overview);
}
const reportTotal = reportMs + (browser?.report.ms ?? 0);
const overviewTotal = overviewMs + (browser?.overview.ms ?? 0);
console.log(`load average after: ${loadavg()[0].toFixed(2)}`);
console.log(`\nreport ${(report.length / 1024).toFixed(0)} KB, overview ${(overview.length / 1024).toFixed(0)} KB; target < ${TARGET_MS} ms each (generate + browser): report ${reportTotal < TARGET_MS ? "met" : "NOT MET"}, overview ${overviewTotal < TARGET_MS ? "met" : "NOT MET"}`);
console.log(JSON.stringify({
  stages: STAGES, runs: RUNS, loadAverage1m: Number(load.toFixed(2)),
  limitMs: Number(limitMs.toFixed(1)), reportGenerateMs: Number(reportMs.toFixed(1)), overviewGenerateMs: Number(overviewMs.toFixed(1)),
  reportGenerateCpuMs: Math.round(reportGen.cpuMs), overviewGenerateCpuMs: Math.round(overviewGen.cpuMs),
  reportBrowserMs: browser ? Number(browser.report.ms.toFixed(1)) : null, overviewBrowserMs: browser ? Number(browser.overview.ms.toFixed(1)) : null,
  reportBrowserCpuMs: browser ? Math.round(browser.report.cpuMs) : null, overviewBrowserCpuMs: browser ? Math.round(browser.overview.cpuMs) : null,
  reportRatioToLimit: Number((reportMs / limitMs).toFixed(2)), overviewRatioToLimit: Number((overviewMs / limitMs).toFixed(2)),
  reportBytes: report.length, overviewBytes: overview.length, targetMs: TARGET_MS, met: reportTotal < TARGET_MS && overviewTotal < TARGET_MS,
}));
