// A process SIGKILLed at each step of a Delta commit — every `delta:` point in runtime/faults.ts, so a new
// step is covered without editing this test — on a published table and on a bronze table, at the commit
// that is due a checkpoint (version 10): the table stays readable at a consistent version (the one before
// or the one committed, whole), no partial commit file exists, no file of the crashed write is in the log,
// a bronze table's checkpoint is the one its log's latest version carries, and the next commit goes on.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { CRASH_POINTS } from "../../../../runtime/faults.ts";
import { dataFilePath } from "../../../../runtime/lake/delta/actions.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import { loadSnapshot } from "../../../../runtime/lake/delta/replay.ts";
import { vacuumTable } from "../../../../runtime/lake/delta/vacuum.ts";
import { readBronzeState } from "../../../../runtime/state/bronze-state.ts";
import { checkDeltaTable } from "../../../helpers/delta-protocol.ts";
import { independentView } from "../../../helpers/delta-reader.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { commitOnce } from "../../../fixtures/delta-commit-child.ts";

const DELTA_POINTS = Object.keys(CRASH_POINTS).filter((p) => p.startsWith("delta:"));
const ROOTS = { publish: "silver/k", bronze: "bronze/src/k" } as const;

let engine: Engine;
before(async () => {
  engine = await Engine.create({ threads: 1, memoryLimit: "512MB" }, { directories: [tmpdir()] });
});
after(() => engine.close());

function child(dir: string, kind: keyof typeof ROOTS, rows: number, crashAt = "") {
  return spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/delta-commit-child.ts", dir, kind, String(rows)], {
    env: { ...process.env, MALLARD_CRASH_AT: crashAt },
    encoding: "utf8",
  });
}

describe("SIGKILL at each step of a Delta commit", () => {
  it("covers the commit's steps", () => assert.deepEqual(DELTA_POINTS, ["delta:{table}:before-commit", "delta:{table}:after-commit", "delta:{table}:before-last-checkpoint"]));

  for (const kind of ["publish", "bronze"] as const) {
    for (const point of DELTA_POINTS) {
      it(`${kind}: killed at ${point}, the table reads whole at a consistent version`, async () => {
        const { lake, dir, dispose } = await scratchLake();
        const root = ROOTS[kind];
        try {
          // Versions 0–9; the killed commit is version 10, which is due a checkpoint.
          for (let v = 1; v <= 10; v++) await commitOnce(dir, kind, v, engine);
          const killed = child(dir, kind, 11, point);
          assert.equal(killed.signal, "SIGKILL", `the child must die at ${point}: ${killed.stderr}`);

          const committed = point !== "delta:{table}:before-commit";
          const log = readdirSync(join(dir, root, "_delta_log"));
          assert.deepEqual(log.filter((n) => n.endsWith(".json")).filter((n) => !/^\d{20}\.json$/.test(n)), [], "no partial commit file");
          assert.equal(log.filter((n) => /^\d{20}\.json$/.test(n)).length, committed ? 11 : 10);
          await engine.withConnection(async (con) => {
            const snapshot = (await loadSnapshot(lake, con, root))!;
            assert.equal(snapshot.version, committed ? 10 : 9);
            await createSnapshotView(con, lake, snapshot, "t");
            const rows = await queryRows<{ version: string; n: bigint }>(con, "SELECT version, count(*) AS n FROM t GROUP BY version ORDER BY version");
            // A publish replaces the rows (v10 or v11); bronze appends (v1…v10, and v11 when committed).
            if (kind === "publish") assert.deepEqual(rows, [committed ? { version: "v11", n: 11n } : { version: "v10", n: 10n }]);
            else assert.deepEqual(rows.map((r) => Number(r.n)).sort((a, b) => a - b), Array.from({ length: committed ? 11 : 10 }, (_, i) => i + 1));
            // The files in the table folder that no version names are the crashed write's, and only those.
            const live = new Set([...snapshot.files.keys(), ...snapshot.tombstones.keys()].map((p) => dataFilePath(root, p)));
            const stray = readdirSync(join(dir, root), { recursive: true }).map(String).filter((n) => n.endsWith(".parquet") && !n.startsWith("_delta_log"))
              .map((n) => `${root}/${n}`).filter((p) => !live.has(p));
            assert.equal(stray.length, committed ? 0 : 1, `unreferenced data files: ${stray.join(", ")}`);
            if (kind === "bronze") {
              const { state } = await readBronzeState(lake, con, root);
              assert.deepEqual(state!.checkpoint, { columns: ["id"], values: [committed ? "11" : "10"] }, "the checkpoint is the log's");
              assert.deepEqual(new Set(state!.batches.flatMap((b) => b.files)), new Set([...snapshot.files.keys()].map((p) => dataFilePath(root, p))), "the state's batches are the live files");
            }
            const checked = await checkDeltaTable(con, join(dir, root));
            assert.equal(checked.checkpoints, point.endsWith("before-last-checkpoint") ? 1 : 0, "the checkpoint file is whole or absent");
            await independentView(con, join(dir, root), "independent");
            assert.deepEqual(
              await queryRows(con, "SELECT id, version FROM independent ORDER BY ALL"),
              await queryRows(con, "SELECT id, version FROM t ORDER BY ALL"),
            );
          });

          // The next commit goes on top, and vacuum later removes the crashed write's file.
          const next = child(dir, kind, 12);
          assert.equal(next.status, 0, next.stderr);
          await engine.withConnection(async (con) => {
            const checked = await checkDeltaTable(con, join(dir, root));
            assert.equal(checked.versions, committed ? 12 : 11);
            const vacuumed = (await vacuumTable(lake, con, root, { now: Date.now() + 8 * 86_400_000 }))!;
            if (!committed) assert.ok(vacuumed.deleted.length >= 1);
            await checkDeltaTable(con, join(dir, root));
          });
        } finally {
          await dispose();
        }
      });
    }
  }
});
