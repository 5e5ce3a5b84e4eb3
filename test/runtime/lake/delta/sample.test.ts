// Every table the sample pipeline writes (bronze, silver, gold, quarantines, dedup companions), after two
// runs, on the local lake and on Azure Storage (Azurite): each passes the independent protocol checks
// (test/helpers/delta-protocol.ts), and a reader that knows only the protocol (test/helpers/delta-reader.ts)
// gets the same rows as `mallard query`'s views, at the current version and at the one before.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_CONFIG, loadPipeline } from "../../../../runtime/config/load-pipeline.ts";
import type { Pipeline } from "../../../../runtime/declare/pipeline.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../../../runtime/demo/embedded-postgres.ts";
import { seedShop } from "../../../../runtime/demo/shop-data.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import type { Lake } from "../../../../runtime/lake/lake.ts";
import { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { lakeTables } from "../../../../runtime/query/catalog.ts";
import { openQuerySession } from "../../../../runtime/query/session.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../../../runtime/secrets/secrets.ts";
import { LOAD_DATE_COLUMN } from "../../../../runtime/stages/bronze-table/log.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";
import { checkDeltaTable, materialize } from "../../../helpers/delta-protocol.ts";
import { independentView } from "../../../helpers/delta-reader.ts";

let work: string;
let postgres: EmbeddedPostgres;
let pipeline: Pipeline;
let engine: Engine;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "mallard-delta-sample-"));
  postgres = await startEmbeddedPostgres();
  await seedShop(postgres.db);
  pipeline = await loadPipeline(DEFAULT_CONFIG, process.cwd());
  engine = await Engine.create({ threads: 1, memoryLimit: "512MB" }, { directories: [work] });
});
after(async () => {
  await engine?.close();
  await postgres?.close();
  await rm(work, { recursive: true, force: true });
});

async function runSampleTwice(lake: Lake): Promise<void> {
  const secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: postgres.url })]);
  for (let i = 0; i < 2; i++) {
    const record = await runLocal({ pipeline, lake, secrets, projectRoot: process.cwd() });
    assert.equal(record.status, "succeeded", JSON.stringify(Object.values(record.tasks).filter((t) => t.status !== "succeeded")));
  }
}

/** A view's rows as sorted text, so types that print alike compare alike. */
async function rowsOf(con: Parameters<typeof queryRows>[0], from: string, exclude: string[] = []): Promise<unknown[]> {
  const select = exclude.length ? `SELECT * EXCLUDE (${exclude.map(quoteIdent).join(", ")}) FROM ${from}` : `SELECT * FROM ${from}`;
  return queryRows(con, `SELECT COLUMNS(*)::VARCHAR FROM (${select}) ORDER BY ALL`);
}

/** deepEqual, with a short message (the first differing row) instead of two whole tables. */
function sameRows(actual: unknown[], expected: unknown[], what: string): void {
  const first = actual.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
  if (first === -1 && actual.length === expected.length) return;
  assert.fail(`${what}: mallard query has ${actual.length} rows, the protocol-only reader ${expected.length}; ` +
    `first difference at row ${first}: ${JSON.stringify(actual[first])} vs ${JSON.stringify(expected[first])}`);
}

/**
 * Check every table of the lake, whose folders are under `dir` (copied there for a remote lake), and
 * compare the protocol-only reader with `mallard query` (opened on `lakeSpec`) at the latest and previous versions.
 */
async function checkEveryTable(lake: Lake, lakeSpec: string, local: (root: string) => Promise<string>): Promise<void> {
  const tables = await lakeTables(lake, pipeline);
  const checked: string[] = [];
  const versions = new Map<string, number>();
  await engine.withConnection(async (con) => {
    for (const table of tables) {
      const dir = await local(table.root);
      if (!existsSync(join(dir, "_delta_log"))) continue;
      const result = await checkDeltaTable(con, dir);
      assert.ok(result.versions >= 2, `${table.name}: two runs make at least two versions`);
      versions.set(table.name, result.versions - 1);
      checked.push(table.name);
    }
  });
  // Every stage's main table exists (quarantines only where a model dropped rows).
  for (const stage of pipeline.stages) assert.ok(checked.includes(stage.name), `${stage.name} is a Delta table`);

  for (const back of [0, 1]) {
    const byVersion = new Map<number, string[]>();
    for (const [name, latest] of versions) byVersion.set(latest - back, [...(byVersion.get(latest - back) ?? []), name]);
    for (const [version, names] of byVersion) {
      const session = await openQuerySession({ config: DEFAULT_CONFIG, lake: lakeSpec, projectDir: process.cwd(), asOf: back ? String(version) : undefined });
      try {
        await engine.withConnection(async (con) => {
          for (const name of names) {
            const table = tables.find((t) => t.name === name)!;
            await independentView(con, await local(table.root), "protocol_only", version);
            const bronze = table.stage.kind === "bronze.table";
            // A bronze table's query view is the latest row per key; its __history is every live row.
            const mallard = await rowsOf(session.con, quoteIdent(bronze ? `${name}__history` : name), bronze ? ["_mallard_load_seq", "_mallard_row"] : []);
            const independent = await rowsOf(con, "protocol_only", bronze ? [LOAD_DATE_COLUMN] : []);
            assert.ok(independent.length > 0 || name.includes("__"), `${name}@${version}: has rows`);
            sameRows(mallard, independent, `${name} at version ${version}${back ? " (the previous one)" : ""}`);
          }
        });
      } finally {
        await session.close();
      }
    }
  }
}

describe("every table the sample pipeline writes is a Delta table any reader reads alike", { timeout: 900_000 }, () => {
  it("on the local lake", async () => {
    const dir = join(work, "local");
    const lake = new LocalLake(dir);
    await runSampleTwice(lake);
    await checkEveryTable(lake, dir, async (root) => join(dir, root));
  });

  describe("on Azure Storage (Azurite)", () => {
    let azurite: Azurite;
    let lake: AzureLake;
    before(async () => {
      azurite = await startAzurite();
      lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString } });
    });
    after(async () => {
      await lake?.cache.clear();
      await azurite?.stop();
    });

    it("gives the same result", async () => {
      await runSampleTwice(lake);
      const copies = new Map<string, Promise<string>>();
      const local = (root: string) => {
        if (!copies.has(root)) copies.set(root, materialize(lake, root, join(work, "azure")).then(() => join(work, "azure", root)));
        return copies.get(root)!;
      };
      await checkEveryTable(lake, azurite.connectionString, local);
    });
  });
});
