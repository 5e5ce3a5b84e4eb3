// The 1M skewed-people run of the dedup benchmark: generated once per (records, seed) into Parquet, then
// deduplicated in a child process per engine memory limit, so each child's peak RSS is its own (a
// Functions instance runs one engine). The child runs the real Engine (memory_limit, spill folder) with
// configs/dedup/people_1m.yml, the declaration docs/dedup.md documents.
//
//   child: node --import tsx bench/dedup/people-bench.ts <people.parquet> <truth.parquet> <memoryLimit> <threads>

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse as parseYaml } from "yaml";
import { parseDedupArgs } from "../../runtime/declare/dedup.ts";
import { runDedup } from "../../runtime/dedup/index.ts";
import { Engine } from "../../runtime/engine/engine.ts";
import { duckdbMemoryLimit, parseMemorySize } from "../../runtime/engine/memory.ts";
import { quoteLiteral } from "../../runtime/engine/sql.ts";
import { generatePeople } from "./people.ts";
import { phaseSeconds, score, seconds, type PhaseSeconds, type Scores } from "./score.ts";

export const PEOPLE_CONFIG = "configs/dedup/people_1m.yml";

export interface PeopleFigures extends Scores {
  records: number;
  memoryLimit: string;
  threads: number;
  /** Reading the input (not counted), the run's wall and CPU totals, and per phase. */
  seconds: { input: number; total: number; cpu: number; phases: PhaseSeconds };
  /** The machine's 1-minute load average when the run ended (2 cores, shared). */
  load: number;
  recordsPerSecond: number;
  memory: {
    /** The engine's memoryLimit in MiB: what the whole process must stay inside. */
    limitMiB: number;
    /** DuckDB's own memory_limit under it (runtime/engine/memory.ts). */
    duckdbLimit: string;
    /** Peak resident set of the whole child process (Node and DuckDB), from the kernel. */
    peakRssMiB: number;
    /** Largest total DuckDB reported in duckdb_memory() (its buffer manager's own accounting), sampled every 100 ms. */
    duckdbPeakMiB: number;
    /** Largest V8 heap in use, sampled alike. */
    peakHeapMiB: number;
    /** Largest size the engine's spill folder reached, sampled alike. */
    peakSpillMiB: number;
  };
  conflicts: { components: number; refusedLinks: number };
}

/** Generate (or reuse) the seeded Parquet files, then run one child per memory limit. */
export async function runPeople(records: number, seed: number, memoryLimits: string[], threads: number): Promise<PeopleFigures[]> {
  const base = join(tmpdir(), `mallard-bench-people-${records}-${seed}`);
  const files = { people: `${base}.parquet`, truth: `${base}.truth.parquet` };
  if (!existsSync(files.people) || !existsSync(files.truth)) {
    const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const con = await instance.connect();
    try {
      await generatePeople(con, records, seed);
      // Written under temporary names and renamed, so an interrupted run never leaves half a file to reuse.
      await con.run(`COPY people TO ${quoteLiteral(`${files.people}.tmp`)} (FORMAT parquet)`);
      await con.run(`COPY people_truth TO ${quoteLiteral(`${files.truth}.tmp`)} (FORMAT parquet)`);
    } finally {
      con.closeSync();
      instance.closeSync();
    }
    await rename(`${files.people}.tmp`, files.people);
    await rename(`${files.truth}.tmp`, files.truth);
  }
  const out: PeopleFigures[] = [];
  for (const limit of memoryLimits) out.push(await child(files.people, files.truth, limit, threads));
  return out;
}

function child(people: string, truth: string, memoryLimit: string, threads: number): Promise<PeopleFigures> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", "bench/dedup/people-bench.ts", people, truth, memoryLimit, String(threads)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    proc.on("error", reject);
    proc.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`people_1m at memoryLimit ${memoryLimit} failed (exit ${code}): ${last}`));
      resolve(JSON.parse(last) as PeopleFigures);
    });
  });
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isFile()) total += (await stat(join(dir, entry.name)).catch(() => ({ size: 0 }))).size;
    }
  } catch {
    // The spill folder appears only once DuckDB spills.
  }
  return total;
}

async function childMain(people: string, truth: string, memoryLimit: string, threads: number): Promise<void> {
  const engine = await Engine.create({ memoryLimit, threads }, { paths: [people, truth] });
  const peak = { spill: 0, duckdb: 0, heap: 0, rss: 0 };
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  const spill = join(engine.workDir, "spill");
  // A second connection reads DuckDB's own accounting while the run's connection works.
  const probe = await engine.connect();
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      peak.spill = Math.max(peak.spill, await folderBytes(spill));
      const usage = process.memoryUsage();
      peak.heap = Math.max(peak.heap, usage.heapUsed);
      peak.rss = Math.max(peak.rss, usage.rss);
      trace?.push(`${Math.round(performance.now())},${mib(usage.rss)},${mib(peak.duckdb)},${phase}`);
      const reader = await probe.runAndReadAll("SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()");
      peak.duckdb = Math.max(peak.duckdb, Number(reader.getRowObjectsJS()[0].b ?? 0));
    } finally {
      sampling = false;
    }
  };
  // MALLARD_BENCH_MEMORY_TRACE=<file>: a CSV of (ms, RSS MiB, DuckDB peak MiB so far, phase) per sample.
  const tracePath = process.env.MALLARD_BENCH_MEMORY_TRACE;
  const trace = tracePath ? ["ms,rss_mib,duckdb_peak_mib,phase"] : undefined;
  let phase = "load";
  const poll = setInterval(() => void sample(), 100);
  try {
    const figures = await engine.withConnection(async (con) => {
      const t0 = performance.now();
      await con.run(`CREATE TABLE people AS SELECT * FROM read_parquet(${quoteLiteral(people)})`);
      await con.run(`CREATE TABLE people_truth AS SELECT * FROM read_parquet(${quoteLiteral(truth)})`);
      const load = performance.now() - t0;
      const args = parseDedupArgs("people_1m", parseYaml(await readFile(PEOPLE_CONFIG, "utf8")));
      const { from: _from, ...spec } = args;
      phase = "budget";
      const cpu0 = process.cpuUsage();
      const result = await runDedup(con, {
        input: "people",
        spec,
        prefix: "people",
        stage: "people_1m",
        keepIntermediate: true,
        onPhase: (next) => (phase = next),
      });
      const cpu = process.cpuUsage(cpu0);
      const phases = phaseSeconds(result.metrics);
      phase = "scoring the result";
      const scores = await score(con, "people", "people_truth", args.id, spec.threshold ?? 0.9, spec.clusterThreshold ?? 0.99);
      return {
        records: result.metrics.records,
        memoryLimit,
        threads,
        ...scores,
        seconds: { input: seconds(load), total: phases.total, cpu: seconds((cpu.user + cpu.system) / 1000), phases },
        load: loadavg()[0],
        recordsPerSecond: result.metrics.records / phases.total,
        memory: {
          limitMiB: Math.round(parseMemorySize(memoryLimit) / 2 ** 20),
          duckdbLimit: duckdbMemoryLimit(memoryLimit),
          peakRssMiB: 0,
          duckdbPeakMiB: 0,
          peakHeapMiB: 0,
          peakSpillMiB: 0,
        },
        conflicts: result.metrics.conflicts,
      } satisfies PeopleFigures;
    });
    figures.memory.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    figures.memory.duckdbPeakMiB = mib(peak.duckdb);
    figures.memory.peakHeapMiB = mib(peak.heap);
    figures.memory.peakSpillMiB = mib(peak.spill);
    if (tracePath && trace) await writeFile(tracePath, trace.join("\n"));
    console.log(JSON.stringify(figures));
  } finally {
    clearInterval(poll);
    probe.closeSync();
    await engine.close();
  }
}

if (process.argv[1]?.endsWith("people-bench.ts") && process.argv.length === 6) {
  const [people, truth, limit, threads] = process.argv.slice(2);
  childMain(people, truth, limit, Number(threads)).catch((error: unknown) => {
    console.log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
