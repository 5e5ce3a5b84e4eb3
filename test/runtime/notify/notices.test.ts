// What a finished run has to say, from its record and the runs before it: a failed run every time, a warn
// check only when it crosses its threshold, a gold table when it becomes stale against its declared
// freshness, and reconciliation drift; and each notice as a Teams Adaptive Card and as Slack blocks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bronze, check, gold, pipeline, secret, silver, source, webhook } from "../../../runtime/declare/index.ts";
import { runNotices, type NoticeInputs } from "../../../runtime/notify/notices.ts";
import { slackPayload, teamsPayload } from "../../../runtime/notify/payloads.ts";
import type { Reconciliation, RunRecord, TaskRecord } from "../../../runtime/state/run-records.ts";

const db = source.postgres("db", { connection: "postgres://unused" });
const orders = bronze.table(db, { table: "public.orders", primaryKey: "id" });
const clean = silver.model("clean", {
  from: { orders }, sql: "select * from orders",
  checks: [
    check.acceptedValues("status", ["a"], { severity: "warn" }),
    check.notNull("email", { severity: "warn", notifyAbove: 10 }),
  ],
});
const revenue = gold.model("revenue", { from: { clean }, sql: "select 1", checks: [check.freshness("at", "1 hour", { severity: "warn" })] });
const shop = pipeline("shop", {
  schedule: "0 */15 * * * *", stages: [orders, clean, revenue],
  notify: { webhooks: [webhook.teams({ url: secret("teams-url") })] },
});

const HOUR = 3_600_000;
const T0 = Date.parse("2026-12-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function run(i: number, opts: { status?: RunRecord["status"]; status_failing?: number; email_failing?: number; error?: RunRecord["error"]; drift?: Reconciliation } = {}): RunRecord {
  const start = T0 + i * HOUR;
  const tasks: Record<string, TaskRecord> = {
    orders: { task: "orders", stage: "orders", kind: "bronze.table", status: "succeeded", ...(opts.drift ? { reconciliation: opts.drift } : {}) },
    clean: {
      task: "clean", stage: "clean", kind: "silver.model", status: "succeeded",
      checks: [
        { name: "accepted_values(status)", kind: "accepted_values", severity: "warn", passed: !opts.status_failing, failingRows: opts.status_failing ?? 0, detail: opts.status_failing ? `${opts.status_failing} failing rows` : undefined },
        { name: "not_null(email)", kind: "not_null", severity: "warn", passed: !opts.email_failing, failingRows: opts.email_failing ?? 0 },
      ],
    },
  };
  return {
    runId: `${iso(start).replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-r${i}`, pipeline: "shop", status: opts.status ?? "succeeded", trigger: "timer",
    startedAt: iso(start), endedAt: iso(start + 60_000), tasks, error: opts.error,
  };
}

const inputs = (current: RunRecord, earlier: RunRecord[] = [], commits: number[] = [T0 + 60_000]): NoticeInputs => ({
  pipeline: shop, run: current, earlier, goldCommits: new Map([["revenue", commits]]), reportLink: "https://app.example/api/runs/x/report",
});

describe("run notices", () => {
  it("tells every failed run, with its stage and a redacted error", () => {
    const failed = run(1, { status: "failed", error: { stage: "orders", message: "connect postgres://u:hunter2@db/x refused" } });
    const notices = runNotices(inputs(failed, [], [T0 + 60_000, T0 + HOUR])).filter((n) => n.event === "run-failed");
    assert.equal(notices.length, 1);
    const facts = Object.fromEntries(notices[0].facts);
    assert.equal(facts["Failed stage"], "orders");
    assert.match(facts.Error, /postgres:\/\/u:\*\*\*@db/);
    assert.doesNotMatch(JSON.stringify(notices), /hunter2/);
    assert.equal(notices[0].level, "error");
  });

  it("tells a warn check when it crosses its threshold, not on each run it stays above", () => {
    const commits = [T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR];
    // Run 1: 3 rows fail (threshold 0 by default) after a clean run 0: a crossing.
    const first = runNotices(inputs(run(1, { status_failing: 3 }), [run(0)], commits));
    assert.deepEqual(first.map((n) => n.event), ["warn-check"]);
    assert.match(first[0].facts[0][0], /clean · accepted_values\(status\)/);
    assert.match(first[0].facts[0][1], /3 failing rows \(threshold 0, 0 in the run before\)/);
    // Run 2: still failing: nothing new to say.
    assert.deepEqual(runNotices(inputs(run(2, { status_failing: 4 }), [run(1, { status_failing: 3 }), run(0)], commits)), []);
    // The check's own threshold (10) holds below it, and crosses above it.
    assert.deepEqual(runNotices(inputs(run(2, { email_failing: 10 }), [run(1)], commits)), []);
    const above = runNotices(inputs(run(3, { email_failing: 11 }), [run(2, { email_failing: 10 })], commits));
    assert.match(above[0].facts[0][1], /11 failing rows \(threshold 10, 10 in the run before\)/);
  });

  it("tells a gold table once, when it becomes older than its declared freshness", () => {
    // Published at T0+1min; runs hourly. At run 1's end (T0+1h+1min) it is exactly 1 h old: fresh.
    const published = [T0 + 60_000];
    assert.deepEqual(runNotices(inputs(run(1), [run(0)], published)), []);
    const stale = runNotices(inputs(run(2), [run(1), run(0)], published));
    assert.deepEqual(stale.map((n) => n.event), ["stale-gold"]);
    assert.equal(stale[0].facts[0][0], "revenue");
    assert.match(stale[0].facts[0][1], /last published 2026-12-01 00:01:00 UTC, 2 h ago \(expected within 1 h\)/);
    // Still stale one run later: already told.
    assert.deepEqual(runNotices(inputs(run(3), [run(2), run(1), run(0)], published)), []);
    // Published again in run 3, stale again by run 5: told again.
    assert.deepEqual(runNotices(inputs(run(5), [run(4), run(3)], [...published, T0 + 3 * HOUR + 60_000])).map((n) => n.event), ["stale-gold"]);
  });

  it("tells reconciliation drift from the bronze task's record", () => {
    const base = { at: iso(T0), durationMs: 5, columns: ["id"] };
    const drifted = run(1, { drift: { ...base, status: "drift", source: { rows: 1000, checksum: "a" }, lake: { rows: 998, checksum: "b" }, missing: 2 } });
    const notices = runNotices(inputs(drifted, [run(0)], [T0 + HOUR]));
    assert.deepEqual(notices.map((n) => n.event), ["reconciliation-drift"]);
    assert.deepEqual(notices[0].facts[0], ["orders", "drift from the source: 2 missing (source 1,000 rows, bronze 998)"]);
    const failed = runNotices(inputs(run(1, { drift: { ...base, status: "error", error: "connect postgres://u:pw@h/db refused" } }), [run(0)], [T0 + HOUR]));
    assert.deepEqual(failed[0].facts[0], ["orders", "reconciliation failed: connect postgres://u:***@h/db refused"]);
    assert.deepEqual(runNotices(inputs(run(1, { drift: { ...base, status: "inSync", source: { rows: 5, checksum: "a" }, lake: { rows: 5, checksum: "a" } } }), [run(0)], [T0 + HOUR])), []);
  });
});

describe("payloads", () => {
  const failed = run(1, { status: "failed", error: { stage: "orders", message: "bad <b>value</b> & more" } });
  const notice = runNotices(inputs(failed, [], [T0 + HOUR]))[0];

  it("Teams: an Adaptive Card 1.4 in the Workflows message envelope, facts and a button to the report", () => {
    const body = teamsPayload(notice) as { type: string; attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[] };
    assert.equal(body.type, "message");
    assert.equal(body.attachments.length, 1);
    assert.equal(body.attachments[0].contentType, "application/vnd.microsoft.card.adaptive");
    assert.equal(body.attachments[0].contentUrl, null);
    const card = body.attachments[0].content as { type: string; version: string; $schema: string; body: { type: string; text?: string; color?: string; facts?: { title: string; value: string }[] }[]; actions: { type: string; url: string }[] };
    assert.equal(card.type, "AdaptiveCard");
    assert.equal(card.version, "1.4");
    assert.equal(card.$schema, "http://adaptivecards.io/schemas/adaptive-card.json");
    assert.deepEqual(card.body.map((b) => b.type), ["TextBlock", "TextBlock", "FactSet"]);
    assert.equal(card.body[0].text, "shop: run failed");
    assert.equal(card.body[0].color, "Attention");
    const facts = Object.fromEntries(card.body[2].facts!.map((f) => [f.title, f.value]));
    assert.equal(facts.Run, failed.runId);
    assert.equal(facts.Error, "bad <b>value</b> & more");
    assert.equal(facts.Report, undefined, "the link is a button, not a fact");
    assert.deepEqual(card.actions, [{ type: "Action.OpenUrl", title: "Open the run report", url: "https://app.example/api/runs/x/report" }]);
  });

  it("Slack: header, summary, fields (10 at most per section), the report link, a text fallback, data escaped", () => {
    const body = slackPayload(notice) as { text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[]; elements?: { text: string }[] }[] };
    assert.match(body.text, /^shop: run failed: Run .* failed at stage orders\.$/);
    assert.deepEqual(body.blocks.map((b) => b.type), ["header", "section", "section", "context"]);
    assert.equal(body.blocks[0].text!.type, "plain_text");
    assert.match(body.blocks[0].text!.text, /shop: run failed/);
    const fields = body.blocks[2].fields!;
    assert.ok(fields.length <= 10);
    assert.ok(fields.every((f) => f.type === "mrkdwn"));
    assert.ok(fields.some((f) => f.text === "*Error*\nbad &lt;b&gt;value&lt;/b&gt; &amp; more"), JSON.stringify(fields));
    assert.equal(body.blocks[3].elements![0].text, "<https://app.example/api/runs/x/report|Open the run report>");
  });
});
