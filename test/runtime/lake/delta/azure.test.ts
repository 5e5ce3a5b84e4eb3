// The Delta writer and reader on Azure Storage (Azurite): commits are put-if-absent through
// If-None-Match: *, so racing writers get one commit per version there too; checkpoints, time travel,
// vacuum and the protocol checks behave as on the local lake.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import { overwriteTable } from "../../../../runtime/lake/delta/overwrite.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import { loadSnapshot } from "../../../../runtime/lake/delta/replay.ts";
import { vacuumTable } from "../../../../runtime/lake/delta/vacuum.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";
import { checkDeltaTable, materialize } from "../../../helpers/delta-protocol.ts";
import { independentView } from "../../../helpers/delta-reader.ts";

describe("Delta tables on Azurite", { timeout: 600_000 }, () => {
  let azurite: Azurite;
  let lake: AzureLake;
  let engine: Engine;
  let con: DuckDBConnection;
  let work: string;
  before(async () => {
    azurite = await startAzurite();
    lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: `delta-${randomBytes(4).toString("hex")}` });
    engine = await Engine.create({ threads: 1, memoryLimit: "512MB" }, { directories: [tmpdir()] });
    con = await engine.connect();
    work = await mkdtemp(join(tmpdir(), "mallard-delta-azure-"));
  });
  after(async () => {
    con?.closeSync();
    await engine?.close();
    await lake?.cache.clear();
    await azurite?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const publish = (root: string, query: string, c = con) => overwriteTable(lake, c, { root, query, workDir: engine.workDir });

  it("commits, checkpoints every 10 versions, travels in time, and passes the protocol checks", async () => {
    const root = "gold/azure_history";
    for (let v = 0; v < 11; v++) await publish(root, `SELECT ${v} AS version, i FROM range(${v + 1}) r(i)`);
    const latest = (await loadSnapshot(lake, con, root))!;
    assert.equal(latest.version, 10);
    assert.ok(latest.log.checkpoints.some((c) => c.version === 10), "checkpoint at version 10");
    const old = (await loadSnapshot(lake, con, root, { version: 3 }))!;
    await createSnapshotView(con, lake, old, "old");
    assert.deepEqual(await queryRows(con, "SELECT max(version) AS v, count(*)::INTEGER AS n FROM old"), [{ v: 3, n: 4 }]);
    const dir = await materialize(lake, root, join(work, "a"));
    assert.deepEqual(await checkDeltaTable(con, dir), { versions: 11, liveFiles: 1, rows: 11, checkpoints: 1 });
    await independentView(con, dir, "independent", 3);
    assert.deepEqual(await queryRows(con, "SELECT * FROM independent ORDER BY i"), await queryRows(con, "SELECT * FROM old ORDER BY i"));
  });

  it("gives exactly one commit per version to writers racing through If-None-Match: *", async () => {
    const root = "silver/azure_race";
    await publish(root, "SELECT 0 AS n");
    const cons = await Promise.all(Array.from({ length: 5 }, () => engine.connect()));
    try {
      const outcomes = await Promise.all(cons.map((c, i) => publish(root, `SELECT ${i + 1} AS n`, c)));
      assert.deepEqual(outcomes.map((o) => (o.committed ? o.version : -1)).sort(), [1, 2, 3, 4, 5]);
    } finally {
      for (const c of cons) c.closeSync();
    }
    const dir = await materialize(lake, root, join(work, "b"));
    const checked = await checkDeltaTable(con, dir);
    assert.deepEqual([checked.versions, checked.liveFiles], [6, 1]);
  });

  it("vacuums removed files past the retention and keeps the live version", async () => {
    const root = "gold/azure_vacuum";
    for (let i = 0; i < 3; i++) await publish(root, `SELECT ${i} AS n`);
    assert.deepEqual((await vacuumTable(lake, con, root))!.deleted, [], "removed just now: kept for readers");
    const later = (await vacuumTable(lake, con, root, { now: Date.now() + 8 * 86_400_000 }))!;
    assert.equal(later.deleted.length, 2);
    const snapshot = (await loadSnapshot(lake, con, root))!;
    await createSnapshotView(con, lake, snapshot, "vac");
    assert.deepEqual(await queryRows(con, "SELECT n FROM vac"), [{ n: 2 }]);
  });
});
