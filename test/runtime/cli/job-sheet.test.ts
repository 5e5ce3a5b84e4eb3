// A job sheet end to end, as a user runs it: `mallard plan` and `mallard run --config jobs.xlsx` (the
// fixture saved by LibreOffice Calc, with its companion jobs.yml) against the real PostgreSQL at
// 127.0.0.1:5432 (db test). The rows land in bronze as the sheet says (full, incremental with a
// look-back, partitioned, a quoted table name), the disabled row is not run, a second run loads only what
// changed, and a bad sheet is one line per problem with exit code 2 and no stack trace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { mallardArgs } from "../../helpers/cli.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/job-sheet/", import.meta.url));
const URL_ = process.env.MALLARD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// The sheet names its tables, so the schema is the one it names (dropped before and after).
const SCHEMA = "jobsheet_e2e";
let dir: string;
let client: pg.Client;

function mallard(args: string[]) {
  const result = spawnSync(process.execPath, mallardArgs(args), {
    cwd: dir, encoding: "utf8", env: { ...process.env, MALLARD_SECRET_JOBSHEET_E2E_DB: URL_ },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Rows of a bronze (or silver) table as `mallard query` prints them (JSON, one row a line). */
function query(sql: string): Record<string, unknown>[] {
  const r = mallard(["query", "--config", "jobs.xlsx", "--lake", "lake", "--format", "json", sql]);
  assert.equal(r.code, 0, r.out + r.err);
  return r.out.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-jobsheet-cli-"));
  for (const f of ["jobs.xlsx", "jobs.yml", "bad.xlsx", "bad.yml"]) await copyFile(join(FIXTURES, f), join(dir, f));
  client = new pg.Client(URL_);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
  await client.query(`
    CREATE TABLE ${SCHEMA}.orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12,2));
    INSERT INTO ${SCHEMA}.orders SELECT i, timestamptz '2026-01-01 00:00Z' + i * interval '1 minute', i * 1.5 FROM generate_series(1, 500) i;
    CREATE TABLE ${SCHEMA}.customers (id int PRIMARY KEY, name text);
    INSERT INTO ${SCHEMA}.customers VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Edsger');
    CREATE TABLE ${SCHEMA}."Order Lines" (order_id int, line_no int, qty int, changed_at timestamptz NOT NULL, PRIMARY KEY (order_id, line_no));
    INSERT INTO ${SCHEMA}."Order Lines" SELECT i / 3, i % 3, i, timestamptz '2026-01-01 00:00Z' + i * interval '1 second' FROM generate_series(0, 299) i;
  `);
});
after(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
  await client.end();
  await rm(dir, { recursive: true, force: true });
});

describe("mallard with a job sheet", () => {
  it("plans the sheet's tables and the companion's model", () => {
    const r = mallard(["plan", "--config", "jobs.xlsx"]);
    assert.equal(r.code, 0, r.out + r.err);
    for (const stage of ["orders", "customers_raw", "Order_Lines", "order_totals"]) assert.match(r.out, new RegExp(stage));
    assert.doesNotMatch(r.out, /not_there_yet/);
  });

  it("loads every enabled row into bronze, then only what changed", async () => {
    const first = mallard(["run", "--config", "jobs.xlsx", "--lake", "lake"]);
    assert.equal(first.code, 0, first.out + first.err);
    assert.deepEqual(query("select count(*)::int as n, sum(amount)::double as total from orders"), [{ n: 500, total: 187875 }]);
    assert.deepEqual(query("select id, name from customers_raw order by id"), [{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }, { id: 3, name: "Edsger" }]);
    assert.deepEqual(query(`select count(*)::int as n, count(distinct (order_id, line_no))::int as keys, sum(qty)::int as qty from "Order_Lines"`), [{ n: 300, keys: 300, qty: 44850 }]);
    assert.deepEqual(query("select orders::int as orders, total::double as total from order_totals"), [{ orders: 500, total: 187875 }]);

    // One order changed and one deleted: incremental with its cursor, and deletes by key scan.
    await client.query(`UPDATE ${SCHEMA}.orders SET amount = 0, updated_at = timestamptz '2026-02-01 00:00Z' WHERE id = 7; DELETE FROM ${SCHEMA}.orders WHERE id = 9`);
    const second = mallard(["run", "--config", "jobs.xlsx", "--lake", "lake"]);
    assert.equal(second.code, 0, second.out + second.err);
    assert.deepEqual(query("select count(*)::int as n, sum(amount)::double as total from orders"), [{ n: 499, total: 187875 - 7 * 1.5 - 9 * 1.5 }]);
    assert.deepEqual(query("select amount::double as amount from orders where id = 7"), [{ amount: 0 }]);
  });

  it("refuses a bad sheet: one line per problem naming file, sheet, row and column, exit code 2", () => {
    for (const command of ["plan", "run"]) {
      const r = mallard([command, "--config", "bad.xlsx", "--lake", "lake-bad"]);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.err, /bad\.xlsx: sheet "jobs", row 2, column "look back": the number 10, expected a duration/);
      assert.match(r.err, /bad\.xlsx: sheet "jobs", row 6, column "load": "snapshot", expected full or incremental/);
      assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
    }
  });

  it("names the sheet's row when a run finds a problem with it (a cursor column the table lacks, a missing table)", async () => {
    await writeFile(join(dir, "wrong.yml"), "name: jobsheet_wrong\nschedule: \"0 0 * * * *\"\nsources:\n  shop: { kind: postgres, connection: { secret: jobsheet-e2e-db } }\n");
    await writeFile(join(dir, "wrong.csv"), `source,table,cursor,primary key\nshop,${SCHEMA}.customers,changed_at,id\nshop,${SCHEMA}.nowhere,,id\n`);
    const r = mallard(["run", "--config", "wrong.csv", "--lake", "lake-wrong"]);
    assert.notEqual(r.code, 0, r.out + r.err);
    const all = r.out + r.err;
    assert.match(all, /wrong\.csv: row 2: stage "customers": incremental\.cursor: column "changed_at" not found/);
    assert.match(all, /wrong\.csv: row 3: .*nowhere/);
  });
});
