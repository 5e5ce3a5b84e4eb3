// A partition task killed mid-range (SIGKILL after a chunk's upload) resumes from its recorded progress:
// the redelivered task reads only what was not recorded, and the committed table equals the source.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { pipeline } from "../../../../runtime/declare/index.ts";
import { queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { commitBronzePartitions, runBronzePartition } from "../../../../runtime/stages/bronze-table/partitions.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { partitionedStage } from "../../../fixtures/partition-child.ts";
import { bronzeBed, type BronzeBed } from "../../../helpers/bronze-bed.ts";
import { stageContext } from "../../../helpers/stage-context.ts";

let bed: BronzeBed;

before(async () => {
  bed = await bronzeBed("resume");
  await bed.client.query(`CREATE TABLE ${quoteIdent(bed.schema)}.big (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, v text)`);
  await bed.client.query(`INSERT INTO ${quoteIdent(bed.schema)}.big SELECT g, timestamptz '2026-01-01' + (g % 9) * interval '1 second', 'v' || g FROM generate_series(1, 4000) g`);
});
after(() => bed.close());

for (const incremental of [true, false]) {
  describe(`a killed partition task (${incremental ? "incremental: resumes at its last chunk" : "full load: resumes at its last range"})`, () => {
    it("re-extracts only what it had not recorded; the committed table equals the source", async () => {
      const runId = `20260101T000000Z-resume-${incremental ? "inc" : "full"}`;
      const stage = partitionedStage(bed.server.url, bed.schema, 2, incremental);
      const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/partition-child.ts", bed.scratch.dir, bed.server.url, bed.schema, runId, "0", "2", incremental ? "yes" : "no"], {
        env: { ...process.env, MALLARD_CRASH_AT: `bronze:${stage.name}#0:after-upload:13` }, encoding: "utf8",
      });
      assert.equal(child.signal, "SIGKILL", child.stderr);
      const ctx = stageContext({ pipeline: pipeline("parts", { schedule: "0 0 * * * *", stages: [stage] }), stage, lake: bed.scratch.lake, engine: bed.engine, runId });
      try {
        const resumed = await runBronzePartition(ctx, { index: 0, count: 2 });
        const [, already, read] = /resumed: ([\d,]+) rows already extracted, ([\d,]+) read/.exec(resumed.note ?? "") ?? [];
        assert.ok(already, `resumed: ${resumed.note}`);
        const [done, again] = [Number(already.replace(/,/g, "")), Number(read.replace(/,/g, ""))];
        // Task 0 holds about half the rows (2,000); 12 chunks of 100 were recorded before the kill.
        assert.equal(done + again, resumed.rowsOut);
        assert.ok(done >= (incremental ? 1_100 : 500), `already extracted ${done}`);
        assert.ok(again < resumed.rowsOut - 400, `read again ${again} of ${resumed.rowsOut}`);
        await runBronzePartition(ctx, { index: 1, count: 2 });
        const committed = await commitBronzePartitions(ctx, 2);
        assert.equal(committed.rowsOut, 4000);
        const rows = await bed.engine.withConnection(async (con) => {
          await registerInputs(con, bed.scratch.lake, { pipeline: "parts", stage: "test" }, { big: stage });
          return queryRows<{ n: bigint; ids: bigint; history: bigint }>(con, `SELECT (SELECT count(*) FROM big) AS n, (SELECT count(DISTINCT id) FROM big) AS ids, (SELECT count(*) FROM big__history) AS history`);
        });
        assert.deepEqual(rows, [{ n: 4000n, ids: 4000n, history: 4000n }], "nothing lost, nothing doubled");
      } finally {
        await ctx.closeConnectors();
      }
    });
  });
}
