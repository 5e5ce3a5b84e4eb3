// `npm run test:faults`: the fault suite. Breaks the runtime the ways production will (killed processes at
// every step boundary, delivery and source faults, expired leases, racing drivers, fuzzed declarations, a
// planted secret) against the real PostgreSQL, Azurite and DuckDB, and prints what it tried and what
// survived: a table, then, as the last line, one JSON object. Exits 1 when any case failed.
//
//   npm run test:faults                 every class
//   npm run test:faults -- kill fuzz    classes whose name contains one of the words

import { startAzurite } from "../helpers/azurite.ts";
import { fuzzDeclarations } from "./fuzz.ts";
import { killPoints } from "./kill/kill-points.ts";
import { sourceFaults } from "./source.ts";
import { deliveryFaults } from "./delivery.ts";
import { type ClassResult, table } from "./report.ts";
import { shopDatabase } from "./shop/database.ts";

const started = Date.now();
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.some((w) => name.includes(w));

const azurite = await startAzurite();
const results: ClassResult[] = [];
try {
  if (wanted("kill")) {
    const db = await shopDatabase();
    try {
      results.push(...(await killPoints({ db, azurite: azurite.connectionString })));
    } finally {
      await db.close();
    }
  }
  if (wanted("delivery")) results.push(...(await deliveryFaults(azurite.connectionString)));
  if (wanted("source")) results.push(...(await sourceFaults()));
  if (wanted("fuzz")) results.push(...(await fuzzDeclarations()));
} finally {
  await azurite.stop();
}

console.log(table(results));
for (const r of results) if (r.note) console.log(`  ${r.name}: ${r.note}`);
const failures = results.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`));
if (failures.length) console.log(`\nFAILED (${failures.length}):\n${failures.map((f) => `  ${f}`).join("\n")}`);
const counts = Object.fromEntries(results.map((r) => [r.name, { tried: r.tried, survived: r.survived }]));
console.log(JSON.stringify({ ok: failures.length === 0, seconds: Math.round((Date.now() - started) / 1000), classes: counts }));
process.exit(failures.length ? 1 : 0);
