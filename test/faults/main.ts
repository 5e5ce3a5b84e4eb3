// `npm run test:faults`: the fault suite. Breaks the runtime the ways production will (killed processes at
// every step boundary, delivery and source faults, expired leases, racing drivers, fuzzed declarations, a
// planted secret) against the real PostgreSQL, Azurite and DuckDB, and prints what it tried and what
// survived: a table, then, as the last line, one JSON object. Exits 1 when any case failed.
//
//   npm run test:faults                 every class
//   npm run test:faults -- kill fuzz    classes whose name contains one of the words

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { startAzurite } from "../helpers/azurite.ts";
import { fuzzDeclarations } from "./fuzz.ts";
import { killPoints } from "./kill/kill-points.ts";
import { sourceFaults } from "./source.ts";
import { deliveryFaults } from "./delivery.ts";
import { canarySecret } from "./canary.ts";
import { races } from "./races.ts";
import { auditGate } from "./audit.ts";
import { PROJECT_ROOT } from "./bundle.ts";
import { type ClassResult, table } from "./report.ts";
import { shopDatabase } from "./shop/database.ts";

const started = Date.now();
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.some((w) => name.includes(w));

const azurite = await startAzurite();
/** Wall seconds each class took (they overlap: see below). */
const took: Record<string, number> = {};
/** Run a class; one that cannot run at all is a failed row, and the others still run. */
async function run(name: string, body: () => Promise<ClassResult[]>): Promise<ClassResult[]> {
  if (!wanted(name)) return [];
  const began = Date.now();
  try {
    return await body();
  } catch (e) {
    return [{ name, tried: 1, survived: 0, failures: [`could not run: ${(e as Error).message.split("\n")[0]}`] }];
  } finally {
    took[name] = Math.round((Date.now() - began) / 1000);
  }
}
let results: ClassResult[];
try {
  // Two lanes. The kill points keep both cores busy with pipeline processes (their own pool of two); the
  // other classes mostly wait (on Azurite's queue, PostgreSQL, visibility timeouts: about a quarter of a
  // core), so they run one after another beside it instead of after it. Each class still runs whole.
  const [kill, others] = await Promise.all([
    run("kill", async () => {
      const db = await shopDatabase();
      try {
        return await killPoints({ db, azurite: azurite.connectionString });
      } finally {
        await db.close();
      }
    }),
    (async () => [
      ...(await run("delivery", () => deliveryFaults(azurite.connectionString))),
      ...(await run("source", () => sourceFaults())),
      ...(await run("lease and drivers", () => races(azurite.connectionString))),
      ...(await run("fuzz", () => fuzzDeclarations())),
      ...(await run("canary", () => canarySecret())),
      ...(await run("audit", () => auditGate(PROJECT_ROOT))),
    ])(),
  ]);
  results = [...kill, ...others];
} finally {
  await azurite.stop();
}

console.log(table(results));
for (const r of results) if (r.note) console.log(`  ${r.name}: ${r.note}`);
console.log(`  seconds per class (the kill points beside the rest): ${Object.entries(took).map(([n, s]) => `${n} ${s}`).join(", ")}`);
// The figures the issue asks for, checked when the whole suite ran.
const sum = (match: RegExp, key: "tried" | "survived") => results.filter((r) => match.test(r.name)).reduce((n, r) => n + r[key], 0);
const figures = {
  killPointsSurvived: sum(/^SIGKILL/, "survived"),
  deliveryFaults: `${sum(/^delivery/, "survived")}/${sum(/^delivery/, "tried")}`,
  sourceFaults: `${sum(/^source/, "survived")}/${sum(/^source/, "tried")}`,
  leaseAndDrivers: `${sum(/^(lease|two drivers)/, "survived")}/${sum(/^(lease|two drivers)/, "tried")}`,
  fuzzCases: sum(/^fuzzed/, "tried"),
  fuzzClear: sum(/^fuzzed/, "survived"),
  canaryLeaks: sum(/^canary secret: leaks/, "tried") - sum(/^canary secret: leaks/, "survived"),
  npmAudit: "checked in CI (.github/workflows/test.yml)",
};
const short: string[] = [];
if (only.length === 0) {
  if (figures.killPointsSurvived < 50) short.push(`only ${figures.killPointsSurvived} kill points survived (at least 50 wanted)`);
  if (figures.fuzzCases < 1000) short.push(`only ${figures.fuzzCases} fuzzed declarations (at least 1000 wanted)`);
}
const failures = [...results.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`)), ...short];
if (failures.length) console.log(`\nFAILED (${failures.length}):\n${failures.map((f) => `  ${f}`).join("\n")}`);
const classes = Object.fromEntries(results.map((r) => [r.name, { tried: r.tried, survived: r.survived }]));
console.log(JSON.stringify({ ok: failures.length === 0, seconds: Math.round((Date.now() - started) / 1000), ...cpuSeconds(), loadAverage: loadavg()[0], secondsPerClass: took, ...figures, classes }));
process.exit(failures.length ? 1 : 0);

/** CPU seconds of this process and of the child processes it waited for (Linux: /proc/self/stat's cutime and cstime). */
function cpuSeconds(): { cpuSeconds: number; childCpuSeconds?: number } {
  const own = process.cpuUsage();
  const cpu = Math.round((own.user + own.system) / 1e6);
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
    // After the command name: state is field 3, cutime and cstime are fields 16 and 17 (clock ticks, 100 a second).
    return { cpuSeconds: cpu, childCpuSeconds: Math.round((Number(fields[13]) + Number(fields[14])) / 100) };
  } catch {
    return { cpuSeconds: cpu };
  }
}
