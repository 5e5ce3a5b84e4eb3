// CLI start benchmark: how long the compiled `mallard` takes to answer, against the limit of Node itself
// (`node -e 0`) measured in the same run. Targets (issue 13): `mallard --help` under 0.3 s and
// `mallard plan` on the sample pipeline under 0.5 s. The last line printed is one JSON object.
//
//   npm run bench:cli                 # builds dist/ first, then 15 runs of each command
//   npm run bench:cli -- --runs 30 --no-build
//
// The machine is shared: commands run round-robin, so load hits each alike; each figure is the best
// (min) and the median of --runs, wall time and CPU time (user + system, the command's children
// included). `plan` runs with the compiled declaration and the SQL checks cached (every run after the
// first); once more with the declaration cache emptied before each run, which is what the first `plan`
// after an edit of the declaration costs; and once with the cache of passed SQL checks emptied, which is
// what the first `plan` after an edit of a model's SQL costs (DuckDB loads to parse it).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "15" }, "no-build": { type: "boolean", default: false } },
});
const runs = Math.max(1, Number(args.runs));
const root = join(import.meta.dirname, "..");
const bin = join(root, "dist", "bin.js");
const declarationCache = join(root, "node_modules", ".cache", "mallard", "declarations");
const sqlCheckCache = join(root, ".mallard", "cache", "sql-checks.json");

interface Command {
  name: string;
  argv: string[];
  /** Runs before each timed run, untimed. */
  before?: () => Promise<void>;
  target?: number;
}

const commands: Command[] = [
  { name: "node -e 0", argv: ["-e", "0"] },
  { name: "mallard --help", argv: [bin, "--help"], target: 0.3 },
  { name: "mallard plan", argv: [bin, "plan"], target: 0.5 },
  { name: "mallard plan, no cache", argv: [bin, "plan"], before: () => rm(declarationCache, { recursive: true, force: true }) },
  { name: "mallard plan, SQL changed", argv: [bin, "plan"], before: () => rm(sqlCheckCache, { force: true }) },
];

/** CPU seconds of this process's waited-for children (Linux /proc), or undefined elsewhere. */
function childrenCpu(): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  // Fields 16 and 17 of stat (cutime, cstime), in clock ticks; 100 a second on Linux.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function runOnce(command: Command): { wall: number; cpu?: number } {
  const cpuBefore = childrenCpu();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, command.argv, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuAfter = childrenCpu();
  if (result.status !== 0) {
    throw new Error(`${command.name} exited ${result.status}: ${result.stderr.trim().split("\n")[0]}`);
  }
  return { wall, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (x: number | undefined) => (x === undefined ? "   n/a" : `${x.toFixed(3)}s`);

if (!args["no-build"]) {
  console.log("building dist/ (npm run build) …");
  const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
if (!existsSync(bin)) {
  console.error("dist/bin.js is missing: run npm run build");
  process.exit(2);
}

const load = loadavg()[0];
// One untimed run each: the file cache is warm and the declaration is compiled once.
for (const command of commands) {
  await command.before?.();
  runOnce(command);
}
const samples = new Map(commands.map((c) => [c.name, [] as { wall: number; cpu?: number }[]]));
for (let i = 0; i < runs; i++) {
  for (const command of commands) {
    await command.before?.();
    samples.get(command.name)!.push(runOnce(command));
  }
}

const limit = min(samples.get("node -e 0")!.map((x) => x.wall));
const figures: Record<string, unknown> = { runs, loadAverage1m: Number(load.toFixed(2)) };
console.log(`\n${runs} runs each; load average ${load.toFixed(2)} on ${availableParallelism()} cores at the start\n`);
console.log(`${"command".padEnd(26)} ${"wall min".padStart(9)} ${"median".padStart(9)} ${"cpu min".padStart(9)} ${"÷ node".padStart(7)}  target`);
for (const command of commands) {
  const walls = samples.get(command.name)!.map((x) => x.wall);
  const cpus = samples.get(command.name)!.flatMap((x) => (x.cpu === undefined ? [] : [x.cpu]));
  const best = min(walls);
  const ratio = best / limit;
  const verdict = command.target === undefined ? "" : `< ${command.target}s ${best < command.target ? "met" : "NOT MET"}`;
  console.log(`${command.name.padEnd(26)} ${s(best).padStart(9)} ${s(median(walls)).padStart(9)} ${s(cpus.length ? min(cpus) : undefined).padStart(9)} ${ratio.toFixed(2).padStart(7)}  ${verdict}`);
  figures[command.name] = {
    wallMinSeconds: Number(best.toFixed(3)),
    wallMedianSeconds: Number(median(walls).toFixed(3)),
    cpuMinSeconds: cpus.length ? Number(min(cpus).toFixed(3)) : null,
    ratioToNode: Number(ratio.toFixed(2)),
    ...(command.target === undefined ? {} : { targetSeconds: command.target, met: best < command.target }),
  };
}
console.log(JSON.stringify(figures));
