// SIGKILL at every step boundary the runtime declares (CRASH_POINTS in runtime/faults.ts), each instance
// a clean run of the shop pipeline reaches: chunk uploads and commits of every bronze table (partitions
// included), every Delta commit and checkpoint, every task of a local run, and every driver and executor
// step of the queue protocol. For each: a process runs the pipeline and is killed there; the next run (or
// timer tick) recovers; the lake must then equal the clean run's, table for table, row for row, with no
// file missing and no run left "running" — and right after the kill, each published table must be whole:
// absent, as before the run, or as after it.
//
// Three scenarios, each with one clean reference run reused by all its cases: a first load into an empty
// lake, an incremental load into a lake that already holds a run (its tables set to checkpoint every two
// versions, so the next publish writes a Delta checkpoint), and the queue protocol (Azurite's queue,
// local lake). A point reached in several scenarios is killed in the first.

import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { CRASH_POINTS } from "../../../runtime/faults.ts";
import { secretEnvName } from "../../../runtime/secrets/secrets.ts";
import { bundle, PROJECT_ROOT } from "../bundle.ts";
import { type CaseOutcome, type ClassResult, classResult, pool, tryCase } from "../report.ts";
import type { ShopDatabase } from "../shop/database.ts";
import { compareDigests, type LakeDigest } from "../shop/digest.ts";
import { SHOP_SECRET } from "../shop/pipeline.ts";

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

interface Scenario {
  readonly name: string;
  /** The lake a run of this scenario starts from (undefined: empty). */
  readonly start?: string;
  readonly queue: boolean;
  /** Stages the run selects (a queue run: the partitioned table and its model). */
  readonly select?: readonly string[];
  /** Published tables before the run (absent: none). */
  readonly before?: LakeDigest;
  reference?: LakeDigest;
  points?: string[];
}

export interface KillSuite {
  readonly db: ShopDatabase;
  /** Azurite's connection string (the queue scenario). */
  readonly azurite: string;
}

const TIMEOUT_MS = 240_000;

export async function killPoints(suite: KillSuite): Promise<ClassResult[]> {
  const work = await mkdtemp(join(tmpdir(), "mallard-kill-"));
  try {
    return await run(suite, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function run(suite: KillSuite, work: string): Promise<ClassResult[]> {
  const child = await bundle("test/faults/kill/child.ts");
  let lakes = 0;
  const env = (scenario: Scenario, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    [secretEnvName(SHOP_SECRET)]: suite.db.url,
    FAULT_PROJECT_ROOT: PROJECT_ROOT,
    ...(scenario.queue ? { FAULT_QUEUE: `${suite.azurite}|kill-${process.pid}-${++lakes}` } : {}),
    ...(scenario.select ? { FAULT_SELECT: scenario.select.join(",") } : {}),
    ...extra,
  });
  const start = (args: string[], environment: NodeJS.ProcessEnv) => runChild(child, args, environment);
  const freshLake = async (scenario: Scenario): Promise<string> => {
    const dir = join(work, `lake-${++lakes}`);
    if (scenario.start) await cp(scenario.start, dir, { recursive: true });
    return dir;
  };

  // The lake the incremental scenario starts from: one run on the source as it was, then the source changes.
  const base: Scenario = { name: "base", queue: false };
  const baseDir = join(work, "base");
  const built = await start(["base", baseDir], env(base));
  if (built.code !== 0) throw new Error(`the base run failed: ${lastLines(built.stderr)}`);
  const baseDigest = (JSON.parse(built.stdout) as { after: LakeDigest }).after;
  await suite.db.mutate();

  const scenarios: Scenario[] = [
    { name: "first load", queue: false },
    { name: "incremental", queue: false, start: baseDir, before: baseDigest },
    // Every driver and executor step for each task of a partitioned load: two partition tasks, the
    // task committing them, the model reading it.
    { name: "queue", queue: true, select: ["lines_full", "line_count"] },
  ];
  // The clean runs, traced: the points each reaches are its cases.
  await Promise.all(scenarios.map(async (scenario, i) => {
    const trace = join(work, `trace-${i}.ndjson`);
    const clean = await start(["recover", await freshLake(scenario)], env(scenario, { MALLARD_FAULT_TRACE: trace }));
    if (clean.code !== 0) throw new Error(`the clean ${scenario.name} run failed: ${lastLines(clean.stderr)}`);
    const out = JSON.parse(clean.stdout) as { after: LakeDigest; error?: string };
    if (out.error || out.after.broken.length) throw new Error(`the clean ${scenario.name} run: ${out.error ?? out.after.broken.join("; ")}`);
    scenario.reference = out.after;
    const names = (await readFile(trace, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { point: string; name: string });
    scenario.points = [...new Set(names.map((n) => n.name))];
    for (const n of names) reachedPatterns.add(n.point);
  }));
  const only = process.env.FAULTS_POINTS?.split(",");
  const cases: { scenario: Scenario; point: string }[] = [];
  const seen = new Set<string>();
  for (const scenario of scenarios) {
    for (const point of scenario.points!) {
      if (seen.has(point) || (only && !only.some((o) => point.includes(o)))) continue;
      seen.add(point);
      cases.push({ scenario, point });
    }
  }

  // One case more than there are cores: a case's processes wait on PostgreSQL, the disk and, in the queue
  // scenario, on visibility timeouts and polls, and a third case fills those gaps (measured on 2 cores:
  // docs/reliability.md "Fault suite figures"). The queue cases, the longest (a kill there costs a
  // redelivery), go first, so no long case starts last and runs alone.
  const concurrency = Number(process.env.FAULTS_CONCURRENCY ?? cpus().length + 1);
  const ordered = [...cases.filter((c) => c.scenario.queue), ...cases.filter((c) => !c.scenario.queue)];
  const outcomes = await pool(ordered, concurrency, async ({ scenario, point }) => {
    const began = Date.now();
    const outcome = await tryCase(`${scenario.name}: ${point}`, async () => {
      const lake = await freshLake(scenario);
      const caseEnv = env(scenario);
      const killed = await start(["run", lake], { ...caseEnv, MALLARD_CRASH_AT: point });
      if (killed.timedOut) return "the run did not end in time";
      if (killed.signal !== "SIGKILL") return `the process was not killed there (exit ${killed.code}): ${lastLines(killed.stderr)}`;
      const recovered = await start(["recover", lake], caseEnv);
      if (recovered.code !== 0) return recovered.timedOut ? "recovery did not end in time" : `recovery failed: ${lastLines(recovered.stderr)}`;
      const out = JSON.parse(recovered.stdout) as { before: LakeDigest; after: LakeDigest; error?: string };
      const problems = [
        ...(out.error ? [`recovery run: ${out.error}`] : []),
        ...wholeTables(out.before, scenario.before, scenario.reference!),
        ...compareDigests(scenario.reference!, out.after),
      ];
      await rm(lake, { recursive: true, force: true });
      return problems.length ? problems.join("; ") : undefined;
    });
    progress(`${outcome.failure ? "✗" : "✓"} ${outcome.name} (${Math.round((Date.now() - began) / 1000)} s)${outcome.failure ? `: ${outcome.failure}` : ""}`);
    return outcome;
  });

  // Patterns no scenario reached: a step boundary the suite does not break yet.
  const unreached: CaseOutcome[] = Object.keys(CRASH_POINTS).filter((p) => !reachedPatterns.has(p))
    .map((p) => ({ name: `pattern ${p}`, failure: "reached by no scenario of the suite's pipeline" }));
  // The queue's clean run must leave what the local clean run leaves (for the tables it selected).
  const sameAsLocal = await tryCase("clean queue run equals clean local run", async () => {
    const local = scenarios[0].reference!;
    const queued = scenarios[2].reference!;
    const diff = compareDigests({ ...local, tables: Object.fromEntries(Object.keys(queued.tables).map((t) => [t, local.tables[t]])) }, queued);
    return diff.length ? diff.join("; ") : undefined;
  });
  const patterns = Object.keys(CRASH_POINTS).length;
  return [
    classResult("SIGKILL at a step boundary", [...outcomes, ...unreached, sameAsLocal],
      `${cases.length} kill points: every instance of the ${patterns} CRASH_POINTS patterns (${reachedPatterns.size} reached) in a first load, an incremental load and a queue run`),
  ];
}

const reachedPatterns = new Set<string>();

/** Right after a kill, each published table is whole: absent, as before the run, or as after it. */
function wholeTables(crashed: LakeDigest, before: LakeDigest | undefined, after: LakeDigest): string[] {
  const out = [...crashed.broken.filter((b) => !b.includes("still \"running\""))];
  for (const [name, t] of Object.entries(crashed.tables)) {
    if (name.startsWith("bronze:")) continue; // a first load commits chunk by chunk on purpose (resumable)
    const ok = [before?.tables[name], after.tables[name]].some((d) => d && d.hash === t.hash);
    if (!ok) out.push(`right after the kill ${name} held ${t.rows} rows that are neither the version before the run nor after it`);
  }
  return out;
}

/** A line on stderr as each case ends: the suite runs for minutes. */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

/** The error a child printed: its first line that names one, else its last lines. */
function lastLines(text: string): string {
  const lines = text.trim().split("\n");
  const error = lines.find((l) => /^\w*(Error|Exception)\b|^Error:/.test(l.trim()));
  return (error ?? lines.slice(-3).join(" | ")).slice(0, 400);
}

function runChild(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill("SIGKILL");
    }, TIMEOUT_MS);
    p.once("error", reject);
    p.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
