// Bronze incremental correctness against a real PostgreSQL: inserts, updates, rows sharing one
// timestamp, late rows inside the look-back window, a process killed mid-load, schema evolution.
// After every load, bronze-latest is compared with the source table row for row.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { bronzeBed, type BronzeBed, bronzeState } from "../../../helpers/bronze-bed.ts";

let bed: BronzeBed;
let server: BronzeBed["server"];
let client: BronzeBed["client"];
let engine: BronzeBed["engine"];
let scratch: BronzeBed["scratch"];
let schema: string;

before(async () => {
  bed = await bronzeBed("bronze");
  ({ server, client, engine, scratch, schema } = bed);
  await client.query(`CREATE TABLE ${quoteIdent(schema)}.events (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12,2), label text)`);
});
after(() => bed.close());

const table = () => `${quoteIdent(schema)}.events`;

function eventsStage(options: { lookBack?: "1 hours"; chunkRows?: number; name?: string } = {}): BronzeTable {
  const db = source.postgres("src", { connection: server.url, chunkRows: options.chunkRows ?? 50 });
  return bronze.table(db, {
    table: `${schema}.events`, name: options.name ?? "events", primaryKey: "id",
    incremental: { cursor: ["updated_at", "id"], lookBack: options.lookBack },
  });
}

async function load(stage: BronzeTable, extra: { fullRefresh?: boolean } = {}) {
  const record = await runLocal({
    pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }),
    lake: scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd(), fullRefresh: extra.fullRefresh,
  });
  return record.tasks[stage.name];
}

/** Source rows and bronze-latest rows as comparable text, ordered by id. */
async function compare(stage: BronzeTable): Promise<void> {
  const source = (await client.query(`SELECT id::text, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS updated_at, amount::text, label FROM ${table()} ORDER BY id`)).rows;
  const lake = await engine.withConnection(async (con) => {
    await registerInputs(con, scratch.lake, { pipeline: "t", stage: "test" }, { events: stage });
    return queryRows(con, `SELECT id::VARCHAR AS id, strftime(updated_at, '%Y-%m-%d %H:%M:%S.%f') AS updated_at, amount::VARCHAR AS amount, label FROM events ORDER BY id`);
  });
  assert.equal(lake.length, source.length, "bronze-latest has as many rows as the source");
  assert.deepEqual(lake, source);
}

async function historyCount(stage: BronzeTable): Promise<{ rows: number; distinct: number }> {
  return engine.withConnection(async (con) => {
    await registerInputs(con, scratch.lake, { pipeline: "t", stage: "test" }, { events: stage });
    const [r] = await queryRows<{ rows: bigint; distinct: bigint }>(con, `SELECT count(*) AS rows, count(DISTINCT (id, updated_at)) AS distinct FROM events__history`);
    return { rows: Number(r.rows), distinct: Number(r.distinct) };
  });
}

describe("bronze.table incremental from PostgreSQL", () => {
  it("loads everything, then only what changed, with many rows sharing one timestamp across chunks", async () => {
    // 500 rows over 5 timestamps: every chunk of 50 ends in the middle of a run of equal timestamps.
    await client.query(`INSERT INTO ${table()} SELECT g, timestamptz '2026-01-01 00:00:00+00' + (g % 5) * interval '1 minute', g * 1.5, 'row ' || g FROM generate_series(1, 500) g`);
    const stage = eventsStage();
    const first = await load(stage);
    assert.equal(first.status, "succeeded", first.error);
    assert.equal(first.rowsOut, 500);
    await compare(stage);

    // Updates and inserts, all at one new timestamp, some inserted ids below ones already loaded.
    await client.query(`UPDATE ${table()} SET label = 'updated', amount = amount + 1, updated_at = '2026-01-02 00:00:00+00' WHERE id % 10 = 0`);
    await client.query(`INSERT INTO ${table()} SELECT g, '2026-01-02 00:00:00+00', 0, 'new ' || g FROM generate_series(501, 560) g`);
    const second = await load(stage);
    assert.equal(second.status, "succeeded", second.error);
    assert.equal(second.rowsOut, 50 + 60, "only the changed rows are extracted");
    await compare(stage);

    // A row inserted later with exactly the checkpoint's timestamp and a higher id is not skipped.
    await client.query(`INSERT INTO ${table()} VALUES (1000, '2026-01-02 00:00:00+00', 7, 'same timestamp, later id')`);
    const third = await load(stage);
    assert.equal(third.rowsOut, 1);
    await compare(stage);
    const nothing = await load(stage);
    assert.equal(nothing.rowsOut, 0, "a run with no changes loads nothing");
    const history = await historyCount(stage);
    assert.equal(history.rows, history.distinct, "no row version is loaded twice");
  });

  it("catches late-arriving rows inside the look-back window, and only there", async () => {
    const late = eventsStage({ lookBack: "1 hours", name: "events_lookback" });
    const strict = eventsStage({ name: "events_strict" });
    await load(late);
    await load(strict);
    // Committed late: older than the checkpoint (2026-01-02 00:00) by 30 minutes.
    await client.query(`INSERT INTO ${table()} VALUES (2000, '2026-01-01 23:30:00+00', 1, 'late')`);
    const caught = await load(late);
    assert.equal(caught.status, "succeeded", caught.error);
    await compare(late);
    const missed = await load(strict);
    assert.equal(missed.rowsOut, 0, "without look-back the late row is behind the checkpoint");
    // Hard deletes are invisible to a cursor; remove the row so later tests compare like with like.
    await client.query(`DELETE FROM ${table()} WHERE id = 2000`);
  });

  it("resumes after a process is killed mid-load: nothing lost, nothing doubled", async () => {
    await client.query(`INSERT INTO ${table()} SELECT g, '2026-01-03 00:00:00+00'::timestamptz + (g % 7) * interval '1 second', g, 'bulk' FROM generate_series(3000, 3999) g`);
    const child = (crashAt: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/bronze-child.ts", scratch.dir, server.url, schema, "100"], {
        env: { ...process.env, MALLARD_CRASH_AT: crashAt }, encoding: "utf8",
      });
    const stage = eventsStage({ name: "events" });
    const before = await bronzeState(engine, scratch.lake, "t", eventsStage());
    // Killed after uploading chunk 3 but before committing it, then after committing chunk 5.
    assert.equal(child("bronze:events:after-upload:3").signal, "SIGKILL");
    const afterCrash = await bronzeState(engine, scratch.lake, "t", eventsStage());
    assert.equal(afterCrash!.batches.length, before!.batches.length + 2, "chunks 1-2 committed, chunk 3 not");
    assert.equal(child("bronze:events:after-commit:5").signal, "SIGKILL");
    const resumed = child("");
    assert.equal(resumed.status, 0, resumed.stderr);
    await compare(stage);
    const history = await historyCount(stage);
    assert.equal(history.rows, history.distinct, "no row version is loaded twice");
  });

  it("two loads of one table at once: one commits, the other stops; nothing doubled", async () => {
    const stage = eventsStage({ name: "events_race", chunkRows: 100 });
    const [a, b] = await Promise.all([load(stage), load(stage)]);
    assert.ok([a.status, b.status].includes("succeeded"), `${a.error} / ${b.error}`);
    for (const r of [a, b]) if (r.status === "failed") assert.match(r.error ?? "", /another load of this table committed meanwhile/);
    await compare(stage);
    const history = await historyCount(stage);
    assert.equal(history.rows, history.distinct, "no row version is loaded twice");
  });

  it("picks up a new column and records it; stops on an incompatible type change", async () => {
    const stage = eventsStage();
    await client.query(`ALTER TABLE ${table()} ADD COLUMN "Note Ü" text`);
    await client.query(`UPDATE ${table()} SET "Note Ü" = 'hello', updated_at = '2026-01-04 00:00:00+00' WHERE id = 1`);
    const added = await load(stage);
    assert.equal(added.status, "succeeded", added.error);
    assert.match(added.note ?? "", /new columns: Note Ü/);
    const state = await bronzeState(engine, scratch.lake, "t", eventsStage());
    assert.ok(state!.columns.some((c) => c.name === "Note Ü"));
    assert.equal(state!.schemaChanges.at(-1)!.added[0].name, "Note Ü");
    await compare(stage);

    // A column added without touching any row: no batch carries it, yet models can already read it.
    await client.query(`ALTER TABLE ${table()} ADD COLUMN discount numeric(5,2) DEFAULT 0`);
    assert.equal((await load(stage)).rowsOut, 0);
    const [col] = await engine.withConnection(async (con) => {
      await registerInputs(con, scratch.lake, { pipeline: "t", stage: "test" }, { events: stage });
      return queryRows(con, `SELECT count(*) AS n, count(discount) AS set, typeof(any_value(discount)) AS type FROM events`);
    });
    assert.deepEqual(col, { n: BigInt((await client.query(`SELECT count(*) FROM ${table()}`)).rows[0].count), set: 0n, type: "DECIMAL(5,2)" });

    await client.query(`ALTER TABLE ${table()} ALTER COLUMN label TYPE integer USING length(label)`);
    await client.query(`UPDATE ${table()} SET updated_at = '2026-01-05 00:00:00+00' WHERE id = 2`);
    const refused = await load(stage);
    assert.equal(refused.status, "failed");
    assert.match(refused.error ?? "", /stage "events": .*column "label" changed from text to integer.*checkpoint is unchanged/);
    const after = await bronzeState(engine, scratch.lake, "t", eventsStage());
    assert.deepEqual(after!.checkpoint, state!.checkpoint, "the checkpoint did not move");
    assert.equal(after!.batches.length, state!.batches.length, "nothing was committed");

    const reloaded = await load(stage, { fullRefresh: true });
    assert.equal(reloaded.status, "succeeded", reloaded.error);
  });

  it("names the stage, field and columns when a cursor column does not exist", async () => {
    const db = source.postgres("src", { connection: server.url });
    const bad = bronze.table(db, { table: `${schema}.events`, name: "bad", primaryKey: "id", incremental: { cursor: "modified_at" } });
    const record = await load(bad);
    assert.equal(record.status, "failed");
    assert.match(record.error ?? "", /^stage "bad": incremental\.cursor: column "modified_at" not found in .*events \(columns: id, updated_at, amount, label/);
  });

  it("loads a newcomer's table with odd identifiers and many types, incrementally, as written", async () => {
    const odd = `${schema} Odd "Schema"`;
    await client.query(`CREATE SCHEMA ${quoteIdent(odd)}`);
    const table = `${quoteIdent(odd)}.${quoteIdent('Order "Lines"')}`;
    await client.query(`CREATE TABLE ${table} (
      "Order ID" bigint, "Line No" int, "Updated At" timestamptz NOT NULL, "Amount €" numeric(20,6), "Tags" text[],
      "Payload" jsonb, "Ref" uuid, "Blob" bytea, "Day" date, PRIMARY KEY ("Order ID", "Line No"))`);
    await client.query(`INSERT INTO ${table} SELECT g / 3, g % 3, timestamptz '2026-03-01 00:00:00.123456+00' + (g % 4) * interval '1 second',
      g * 1.000001, ARRAY['t' || g, NULL], jsonb_build_object('g', g, 'ü', 'ß'), md5(g::text)::uuid, decode('00ff' || lpad(to_hex(g), 4, '0'), 'hex'),
      date '2026-03-01' + g FROM generate_series(1, 90) g`);
    const db = source.postgres("src", { connection: server.url, chunkRows: 25 });
    const stage = bronze.table(db, {
      table: `"${odd.replace(/"/g, '""')}"."Order ""Lines"""`, name: "order_lines", primaryKey: ["Order ID", "Line No"],
      incremental: { cursor: ["Updated At", "Order ID", "Line No"] },
    });
    assert.equal((await load(stage)).rowsOut, 90);
    await client.query(`UPDATE ${table} SET "Amount €" = -1, "Updated At" = '2026-03-02 00:00:00+00' WHERE "Order ID" = 7`);
    const second = await load(stage);
    assert.equal(second.status, "succeeded", second.error);
    assert.equal(second.rowsOut, 3);
    const [row] = await engine.withConnection(async (con) => {
      await registerInputs(con, scratch.lake, { pipeline: "t", stage: "test" }, { order_lines: stage });
      return queryRows(con, `SELECT count(*) AS n, sum(("Amount €" = -1)::int) AS changed,
        max(len("Tags")) AS tags, max("Payload"->>'ü') AS payload, count(DISTINCT "Ref") AS refs, max(octet_length("Blob")) AS blob
        FROM order_lines`);
    });
    assert.deepEqual(row, { n: 90n, changed: 3n, tags: 2n, payload: "ß", refs: 90n, blob: 4n });
  });
});
