// Webhooks end to end against local HTTP receivers this test starts: `mallard run` on a real PostgreSQL
// and DuckDB, where a warn check crosses its threshold; Teams answers 503, then 429 with Retry-After,
// then accepts (retried, delivered, the wait honoured), Slack always fails (retried, then logged) and the
// run still succeeds with exit code 0. The URLs' keys never appear in any output. A second run, with the
// check still failing, sends nothing (a crossing is told once). Then the local runner with a failing
// source: the run-failed notice reaches Slack as Block Kit, and a URL that is not HTTPS is refused
// without being printed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, secret, source, webhook } from "../../../runtime/declare/index.ts";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { runLocal, type RunEvent } from "../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain } from "../../../runtime/secrets/secrets.ts";
import { RunRecords } from "../../../runtime/state/run-records.ts";
import { bronzeBed, type BronzeBed } from "../../helpers/bronze-bed.ts";
import { mallardArgs } from "../../helpers/cli.ts";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.ts";

/** The key part of each URL, as real webhook URLs carry it (Slack's path, Power Automate's `sig=`). */
const TEAMS_KEY = "sig=TeamsKey0123456789abcdef";
const SLACK_KEY = "T000/B000/SlackKeyXYZ987654321";

let bed: BronzeBed;
let teams: Receiver;
let slack: Receiver;

before(async () => {
  bed = await bronzeBed("notify");
  await bed.client.query(`CREATE TABLE ${bed.schema}.orders (id int PRIMARY KEY, status text, updated_at timestamptz)`);
  await bed.client.query(`INSERT INTO ${bed.schema}.orders SELECT g, CASE WHEN g % 5 = 0 THEN 'odd' ELSE 'paid' END, now() FROM generate_series(1, 20) g`);
  teams = await startReceiver([{ status: 503 }, { status: 429, headers: { "retry-after": "1" } }, { status: 202 }]);
  slack = await startReceiver([{ status: 500 }]);
  await writeFile(join(bed.scratch.dir, "pipeline.yml"), `
name: shop
schedule: "0 */15 * * * *"
sources:
  db: { kind: postgres, connection: "${bed.server.url}" }
stages:
  - bronze: orders
    source: db
    table: ${bed.schema}.orders
    primaryKey: id
  - silver: clean
    from: orders
    sql: select * from orders
    checks:
      - acceptedValues: { column: status, values: [paid] }
        severity: warn
        notifyAbove: 1
  - gold: revenue
    from: clean
    sql: select count(*) as n, max(updated_at) as at from clean
    checks:
      - freshness: { column: at, maxAge: 1 day }
notify:
  retry: { maxAttempts: 3, totalSeconds: 8 }
  webhooks:
    - format: teams
      url: { secret: teams-url }
    - format: slack
      url: { secret: slack-url }
      on: [run-failed, warn-check]
`);
});
after(async () => {
  await teams?.close();
  await slack?.close();
  await bed?.close();
});

function mallard(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, mallardArgs(args), { cwd: bed.scratch.dir, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("webhooks", () => {
  it("mallard run: a warn check crossing its threshold reaches Teams after retries; Slack fails and the run still succeeds", async () => {
    const env = {
      MALLARD_SECRET_TEAMS_URL: `${teams.url}/workflows/run?api-version=1&${TEAMS_KEY}`,
      MALLARD_SECRET_SLACK_URL: `${slack.url}/services/${SLACK_KEY}`,
    };
    const r = await mallard(["run", "--config", "pipeline.yml", "--lake", "lake"], env);
    const all = r.out + r.err;
    assert.equal(r.code, 0, all);
    assert.match(r.out, /run \S+ succeeded/);

    // Teams: three attempts, the third accepted; the wait before it at least the Retry-After second.
    assert.equal(teams.received.length, 3);
    assert.ok(teams.received[2].at - teams.received[1].at >= 950, `waited ${teams.received[2].at - teams.received[1].at} ms after Retry-After: 1`);
    for (const request of teams.received) {
      assert.equal(request.headers["content-type"], "application/json; charset=utf-8");
      assert.match(request.path, /sig=TeamsKey/);
    }
    const card = (teams.received[2].body.attachments as { contentType: string; content: { type: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[] } }[])[0];
    assert.equal(card.contentType, "application/vnd.microsoft.card.adaptive");
    assert.equal(card.content.type, "AdaptiveCard");
    assert.equal(card.content.body[0].text, "shop: a warn check crossed its threshold");
    const facts = Object.fromEntries(card.content.body[2].facts!.map((f) => [f.title, f.value]));
    assert.match(facts["clean · accepted_values(status)"], /^4 failing rows \(threshold 1\)/);

    // Slack: retried up to the declared attempts, then logged; nothing else happened to the run.
    assert.equal(slack.received.length, 3);
    assert.equal((slack.received[0].body.blocks as { type: string }[])[0].type, "header");
    assert.match(all, /notify: warn-check sent to webhook "teams-url" \(teams\) after 3 attempts/);
    assert.match(all, /warning: notify: warn-check not delivered to webhook "slack-url" \(slack\): HTTP 500 error \(gave up after 3 attempts\)/);
    assert.doesNotMatch(all, /TeamsKey|SlackKey|workflows\/run|services\/T000/);
    const [record] = await new RunRecords(new LocalLake(join(bed.scratch.dir, "lake"))).latest("shop", 1);
    assert.equal(record.status, "succeeded");
    assert.equal(record.tasks.clean.checks?.[0].failingRows, 4);

    // Run again: the check still fails, but it crossed last time: nothing is sent.
    const again = await mallard(["run", "--config", "pipeline.yml", "--lake", "lake"], env);
    assert.equal(again.code, 0, again.out + again.err);
    assert.equal(teams.received.length, 3);
    assert.equal(slack.received.length, 3);
  });

  it("local runner: a failed run reaches Slack as Block Kit; a URL that is not HTTPS is refused without being printed", async () => {
    const ok = await startReceiver([{ status: 200 }]);
    try {
      const down = source.postgres("down", { connection: "postgres://reader@127.0.0.1:1/nowhere" });
      const p = pipeline("broken", {
        schedule: "0 0 * * * *",
        stages: [bronze.table(down, { table: "public.t", primaryKey: "id" })],
        notify: { webhooks: [webhook.slack({ url: secret("slack-ok") }), webhook.teams({ name: "plain", url: secret("plain-http") })] },
      });
      const secrets = new SecretChain([new EnvSecretProvider({
        MALLARD_SECRET_SLACK_OK: `${ok.url}/services/${SLACK_KEY}`,
        MALLARD_SECRET_PLAIN_HTTP: `http://hooks.example.com/${SLACK_KEY}`,
      })]);
      const notices: string[] = [];
      const onEvent = (e: RunEvent) => void (e.type === "notice" && notices.push(`${e.level}: ${e.message}`));
      const record = await runLocal({ pipeline: p, lake: bed.scratch.lake, secrets, projectRoot: bed.scratch.dir, onEvent, notifyDelivery: { baseDelayMs: 10 } });
      assert.equal(record.status, "failed");
      assert.equal(record.error?.stage, "t");
      assert.equal(ok.received.length, 1);
      const body = ok.received[0].body as { text: string; blocks: { type: string; fields?: { text: string }[] }[] };
      assert.match(body.text, /^broken: run failed: Run \S+ failed at stage t\.$/);
      assert.deepEqual(body.blocks.map((b) => b.type).slice(0, 3), ["header", "section", "section"]);
      assert.ok(body.blocks[2].fields!.some((f) => f.text === "*Failed stage*\nt"));
      assert.deepEqual(notices.sort(), [
        `info: notify: run-failed sent to webhook "slack-ok" (slack)`,
        `warn: notify: run-failed not delivered to webhook "plain" (teams): secret "plain-http" is not an https:// URL (plain http is accepted only to localhost)`,
      ]);
      // The record in the lake is the run's, untouched by what the receivers did (compared as stored:
      // JSON drops the in-memory record's undefined fields).
      assert.deepEqual(await new RunRecords(bed.scratch.lake).get("broken", record.runId), JSON.parse(JSON.stringify(record)));
    } finally {
      await ok.close();
    }
  });
});
