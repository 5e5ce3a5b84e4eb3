// The 1M skewed-people run of the dedup benchmark: generated once per (records, seed) into Parquet, then
// deduplicated in a child process per engine memory limit, so each child's peak RSS is its own (a
// Functions instance runs one engine). The child runs the real Engine (memory_limit, spill folder) with
// configs/dedup/people_1m.yml, the declaration docs/dedup.md documents.
//
//   child: node --import tsx bench/dedup/people-bench.ts <people.parquet> <truth.parquet> <memoryLimit> <threads>

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse as parseYaml } from "yaml";
import { parseDedupArgs } from "../../runtime/declare/dedup.ts";
import { runDedup } from "../../runtime/dedup/index.ts";
import { Engine } from "../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../runtime/engine/sql.ts";
import { generatePeople } from "./people.ts";
import { phaseSeconds, score, seconds, type Scores } from "./score.ts";

export const PEOPLE_CONFIG = "configs/dedup/people_1m.yml";

export interface PeopleFigures extends Scores {
  records: number;
  memoryLimit: string;
  threads: number;
  seconds: { load: number; train: number; predict: number; cluster: number; total: number; cpu: number };
  recordsPerSecond: number;
  peakRssMiB: number;
  /** Largest size the engine's spill folder reached, sampled every 100 ms. */
  peakSpillMiB: number;
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
  let peakSpill = 0;
  const spill = join(engine.workDir, "spill");
  const poll = setInterval(() => void folderBytes(spill).then((b) => (peakSpill = Math.max(peakSpill, b))), 100);
  try {
    const figures = await engine.withConnection(async (con) => {
      const t0 = performance.now();
      await con.run(`CREATE TABLE people AS SELECT * FROM read_parquet(${quoteLiteral(people)})`);
      await con.run(`CREATE TABLE people_truth AS SELECT * FROM read_parquet(${quoteLiteral(truth)})`);
      const load = performance.now() - t0;
      const args = parseDedupArgs("people_1m", parseYaml(await readFile(PEOPLE_CONFIG, "utf8")));
      const { from: _from, ...spec } = args;
      const cpu0 = process.cpuUsage();
      const result = await runDedup(con, { input: "people", spec, prefix: "people", stage: "people_1m", keepIntermediate: true });
      const cpu = process.cpuUsage(cpu0);
      const t = result.metrics.timings;
      const totalMs = t.budget + t.prepare + t.train + t.block + t.predict + t.cluster + t.output;
      const scores = await score(con, "people", "people_truth", args.id, spec.threshold ?? 0.9, spec.clusterThreshold ?? 0.99);
      return {
        records: result.metrics.records,
        memoryLimit,
        threads,
        ...scores,
        seconds: { load: seconds(load), ...phaseSeconds(t), total: seconds(totalMs), cpu: seconds((cpu.user + cpu.system) / 1000) },
        recordsPerSecond: result.metrics.records / (totalMs / 1000),
        peakRssMiB: 0,
        peakSpillMiB: 0,
        conflicts: result.metrics.conflicts,
      } satisfies PeopleFigures;
    });
    figures.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    figures.peakSpillMiB = Math.round(peakSpill / 2 ** 20);
    console.log(JSON.stringify(figures));
  } finally {
    clearInterval(poll);
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
