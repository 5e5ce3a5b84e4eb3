// Deploy loop benchmark: the Pulumi program (infra/program.ts) under mocks, as `pulumi preview` runs it,
// with the function bundle's cache emptied (cold: esbuild bundles the runtime and the declaration) and
// warm (nothing changed: the zip on disk is reused, see infra/bundle/cache.ts). Target (issue 13): the
// program under 5 s on a warm cache. Each run is a fresh process (bench/lib/deploy-run.ts). The last line
// is one JSON object.
//
//   npm run bench:deploy                   # 1 cold run, 3 warm runs
//   npm run bench:deploy -- --cold 2 --warm 5
//
// `program` is the program's own time (loading and checking the pipeline, the bundle, the resources);
// `process` adds Node's start and the imports (tsx, Pulumi, the Azure provider SDK). The machine is
// shared: min and median of the runs, with the load average.

import { spawnSync } from "node:child_process";
import { readdir, rm, stat } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { cold: { type: "string", default: "1" }, warm: { type: "string", default: "3" }, pipeline: { type: "string", default: "configs/pipeline.ts" } },
});
const root = join(import.meta.dirname, "..");
const cacheDir = join(root, "node_modules", ".cache", "mallard");
const manifest = join(cacheDir, "bundle-cache.json");
const TARGET_SECONDS = 5;

interface Run {
  programSeconds: number;
  /** CPU time of the program (this process's, user + system): steadier than wall time under load. */
  programCpuSeconds: number;
  processSeconds: number;
  cached: boolean;
}

async function emptyCache(): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (name === "bundle-cache.json" || /^functions-[0-9a-f]{16}\.zip$/.test(name)) await rm(join(cacheDir, name), { force: true });
  }
}

const manifestTime = () => stat(manifest).then((s) => s.mtimeMs, () => undefined);

async function runOnce(): Promise<Run> {
  const before = await manifestTime();
  const child = spawnSync(process.execPath, ["--import", "tsx", "bench/lib/deploy-run.ts", "--pipeline", args.pipeline!], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || !last.startsWith("{")) throw new Error(`the program failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
  const { programSeconds, programCpuSeconds, processSeconds } = JSON.parse(last) as Run;
  // A cache hit writes no manifest; a build writes one.
  const after = await manifestTime();
  return { programSeconds, programCpuSeconds, processSeconds, cached: before !== undefined && before === after };
}

const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => Number(x.toFixed(2));

const load = loadavg()[0];
console.log(`Pulumi program under mocks for ${args.pipeline}; load average ${load.toFixed(2)}`);
const cold: Run[] = [];
for (let i = 0; i < Number(args.cold); i++) {
  await emptyCache();
  cold.push(await runOnce());
  console.log(`  cold run ${i + 1}: program ${cold[i].programSeconds.toFixed(2)} s (cpu ${cold[i].programCpuSeconds.toFixed(2)} s), process ${cold[i].processSeconds.toFixed(2)} s${cold[i].cached ? " (UNEXPECTED cache hit)" : ""}`);
}
if (cold.length === 0) await runOnce(); // fill the cache
const warm: Run[] = [];
for (let i = 0; i < Number(args.warm); i++) {
  warm.push(await runOnce());
  console.log(`  warm run ${i + 1}: program ${warm[i].programSeconds.toFixed(2)} s (cpu ${warm[i].programCpuSeconds.toFixed(2)} s), process ${warm[i].processSeconds.toFixed(2)} s${warm[i].cached ? " (bundle from the cache)" : " (REBUILT)"}`);
}

const summary = (runs: Run[]) => runs.length === 0 ? null : ({
  programSecondsMin: f(min(runs.map((r) => r.programSeconds))),
  programSecondsMedian: f(median(runs.map((r) => r.programSeconds))),
  programCpuSecondsMin: f(min(runs.map((r) => r.programCpuSeconds))),
  processSecondsMin: f(min(runs.map((r) => r.processSeconds))),
  processSecondsMedian: f(median(runs.map((r) => r.processSeconds))),
  runs: runs.length,
});
const warmSummary = summary(warm);
const allCached = warm.every((r) => r.cached);
const met = warmSummary !== null && warmSummary.programSecondsMin < TARGET_SECONDS && allCached;
console.log("");
if (cold.length) console.log(`cold (no cache): program ${summary(cold)!.programSecondsMin} s min, ${summary(cold)!.programSecondsMedian} s median`);
if (warmSummary) {
  console.log(`warm (nothing changed): program ${warmSummary.programSecondsMin} s min, ${warmSummary.programSecondsMedian} s median (cpu ${warmSummary.programCpuSecondsMin} s min), ` +
    `process ${warmSummary.processSecondsMin} s min; bundle ${allCached ? "taken from the cache every time" : "REBUILT"}; target < ${TARGET_SECONDS} s: ${met ? "met" : "NOT MET"}`);
}
console.log(JSON.stringify({ pipeline: args.pipeline, loadAverage1m: f(load), cold: summary(cold), warm: warmSummary, warmAlwaysCached: allCached, targetSeconds: TARGET_SECONDS, met }));
