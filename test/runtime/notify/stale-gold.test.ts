// A gold table goes stale on a real lake: published (a real Delta commit, through the publish path), its
// commit aged past the freshness check's max age, then a run closes. The notice is built from the table's
// Delta log listing and reaches the receiver once; the next run, with the table still stale, sends nothing.
import assert from "node:assert/strict";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bronze, check, gold, pipeline, secret, source, webhook } from "../../../runtime/declare/index.ts";
import { Engine, lakeAccess } from "../../../runtime/engine/engine.ts";
import { notifyRunFinished } from "../../../runtime/notify/notify-run.ts";
import { EnvSecretProvider, SecretChain } from "../../../runtime/secrets/secrets.ts";
import { RunRecords, type RunRecord } from "../../../runtime/state/run-records.ts";
import { publishQuery, scratchLake } from "../../helpers/lake.ts";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.ts";

let scratch: Awaited<ReturnType<typeof scratchLake>>;
let engine: Engine;
let receiver: Receiver;

before(async () => {
  scratch = await scratchLake();
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(scratch.lake));
  receiver = await startReceiver([{ status: 200 }]);
});
after(async () => {
  await receiver.close();
  await engine.close();
  await scratch.dispose();
});

const db = source.postgres("db", { connection: "postgres://unused" });
const orders = bronze.table(db, { table: "public.orders", primaryKey: "id" });
const revenue = gold.model("revenue", { from: { orders }, sql: "select 1 as n", checks: [check.freshness("at", "1 hour", { severity: "warn" })] });
const shop = pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, revenue], notify: { webhooks: [webhook.slack({ url: secret("slack-url") })] } });

async function closedRun(startedAt: Date, status: RunRecord["status"] = "failed"): Promise<RunRecord> {
  const runId = `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-t`;
  const record: RunRecord = {
    runId, pipeline: "shop", status, trigger: "test", startedAt: startedAt.toISOString(), endedAt: new Date(startedAt.getTime() + 60_000).toISOString(),
    tasks: { revenue: { task: "revenue", stage: "revenue", kind: "gold.model", status: "skipped" } },
  };
  await new RunRecords(scratch.lake).create(record);
  return record;
}

describe("stale gold from the Delta log", () => {
  it("tells a gold table older than its freshness once, from its commit times on a real lake", async () => {
    await publishQuery(engine, scratch.lake, "gold/revenue", "select 1 as n");
    // The commit is three hours old: its file's modification time is Delta's commit timestamp.
    const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000);
    await utimes(join(scratch.dir, "gold/revenue/_delta_log/00000000000000000000.json"), threeHoursAgo, threeHoursAgo);
    const ctx = {
      pipeline: shop, lake: scratch.lake, log: () => undefined,
      secrets: new SecretChain([new EnvSecretProvider({ MALLARD_SECRET_SLACK_URL: `${receiver.url}/hook` })]),
    };
    // A run 2.5 hours ago, when the table was 30 minutes old: fresh then.
    await closedRun(new Date(Date.now() - 2.5 * 3_600_000), "succeeded");
    const sent = await notifyRunFinished(ctx, await closedRun(new Date(Date.now() - 120_000)));
    assert.deepEqual(sent.map((s) => [s.event, s.ok]), [["run-failed", true], ["stale-gold", true]]);
    const stale = receiver.received.map((r) => r.body as { text: string; blocks: { fields?: { text: string }[] }[] }).find((b) => /stale/.test(b.text))!;
    assert.match(stale.text, /^shop: gold table revenue is stale: /);
    assert.match(stale.blocks[2].fields![0].text, /^\*revenue\*\nlast published .* UTC, 3 h ago \(expected within 1 h\)$/);

    // The next run: still stale, already told; only its own failure goes out.
    const again = await notifyRunFinished(ctx, await closedRun(new Date(Date.now() - 60_000)));
    assert.deepEqual(again.map((s) => s.event), ["run-failed"]);
  });
});
