// Loading declarations from files: SQL files, SQL that reads undeclared tables, YAML (same schema, same
// messages), TypeScript modules. Every message names the file or stage and the field.
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { loadPipeline } from "../../../runtime/config/load-pipeline.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import type { SqlSource } from "../../../runtime/declare/index.ts";

let root: string;

async function problemsOf(file: string): Promise<readonly string[]> {
  try {
    await loadPipeline(file, root);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail(`expected ${file} to be refused`);
}

const yaml = (stages: string, extra = "") => `
name: shop
schedule: "0 */15 * * * *"
${extra}
sources:
  shop: { kind: postgres, connection: { secret: shop-db-url } }
stages:
  - bronze: orders
    source: shop
    table: public.orders
    primaryKey: [id]
    incremental: { cursor: [updated_at, id], lookBack: 10 minutes }
${stages}`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "mallard-config-"));
  await mkdir(join(root, "transformations"), { recursive: true });
  await writeFile(join(root, "transformations", "clean.sql"), "select id, total from orders where total > 0;\n");
  await writeFile(join(root, "transformations", "sneaky.sql"), "select o.* from orders o join customers c on c.id = o.customer_id");
});

describe("YAML pipelines", () => {
  it("load with the same declarations as TypeScript", async () => {
    await writeFile(join(root, "ok.yml"), yaml(`
  - silver: clean
    from: orders
    sql: transformations/clean.sql
    checks:
      - notNull: id
      - unique: [id]
        severity: warn
      - acceptedValues: { column: status, values: [a, b] }
      - range: { column: total, min: 0 }
        severity: drop
      - rowCount: { min: 1 }
      - freshness: { column: updated_at, maxAge: 1 day }
      - sql: select * from model where total > 1000000
        name: no_huge_totals
  - gold: revenue
    from: { c: clean }
    sql: select sum(total) as revenue from c`));
    const p = await loadPipeline("ok.yml", root);
    assert.deepEqual(p.stages.map((s) => `${s.kind}:${s.name}`), ["bronze.table:orders", "silver.model:clean", "gold.model:revenue"]);
    const clean = p.stages[1];
    assert.ok(clean.kind === "silver.model");
    assert.deepEqual(clean.checks.map((c) => `${c.name}/${c.severity}`), [
      "not_null(id)/fail", "unique(id)/warn", "accepted_values(status)/fail", "range(total)/drop", "row_count(1..)/fail",
      "freshness(updated_at)/fail", "no_huge_totals/fail",
    ]);
    const orders = p.stages[0];
    assert.ok(orders.kind === "bronze.table");
    assert.deepEqual(orders.incremental, { cursor: ["updated_at", "id"], lookBack: "10 minutes" });
    assert.deepEqual((orders.source as SqlSource).connection, { kind: "secret", name: "shop-db-url" });
  });

  it("refuses two stages of one name, naming both entries and their lines, instead of keeping the last", async () => {
    await writeFile(join(root, "twice.yml"), yaml(`
  - silver: clean
    from: orders
    sql: select * from orders
  - gold: clean
    from: orders
    sql: select count(*) as n from orders`));
    assert.deepEqual(await problemsOf("twice.yml"), ['twice.yml: stage "clean": duplicate name (stages[1] at line 14 and stages[2] at line 17)']);
  });

  it("refuses a schedule out of range, as the TypeScript form does", async () => {
    await writeFile(join(root, "never.yml"), yaml("").replace('"0 */15 * * * *"', '"0 0 25 * * *"'));
    assert.deepEqual(await problemsOf("never.yml"), ['never.yml: pipeline "shop": schedule: "0 0 25 * * *": hour 25 is outside 0-23 (six fields, seconds first, e.g. "0 */15 * * * *")']);
  });

  it("names the stage and field of a schema error", async () => {
    await writeFile(join(root, "bad-field.yml"), yaml(`
  - silver: clean
    from: orders
    sql: transformations/clean.sql
    checks:
      - freshness: { column: updated_at, maxAge: soon }`));
    assert.deepEqual(await problemsOf("bad-field.yml"), [
      'bad-field.yml: stage "clean": checks.0.freshness.maxAge: a duration such as "10 minutes"',
    ]);
  });

  it("refuses an unknown field", async () => {
    await writeFile(join(root, "unknown-field.yml"), yaml(`
  - gold: revenue
    from: orders
    sql: select 1 as x from orders
    materialize: table`));
    assert.deepEqual(await problemsOf("unknown-field.yml"), ['unknown-field.yml: stage "revenue": (stage): unknown field "materialize"']);
  });

  it("refuses an unknown input by name", async () => {
    await writeFile(join(root, "unknown-input.yml"), yaml(`
  - gold: revenue
    from: [orders, payments]
    sql: select 1 as x from orders`));
    assert.deepEqual(await problemsOf("unknown-input.yml"), [
      'unknown-input.yml: stage "revenue": from.payments: unknown input "payments" (stages: orders, revenue)',
    ]);
  });

  it("refuses an unknown source", async () => {
    await writeFile(join(root, "unknown-source.yml"), yaml(`
  - bronze: customers
    source: crm
    table: public.customers
    primaryKey: id`));
    assert.deepEqual(await problemsOf("unknown-source.yml"), [
      'unknown-source.yml: stage "customers": source: unknown source "crm" (sources: shop)',
    ]);
  });

  it("reports a cycle between named stages", async () => {
    await writeFile(join(root, "cycle.yml"), yaml(`
  - silver: a
    from: [orders, b]
    sql: select 1 as x from orders
  - silver: b
    from: a
    sql: select 1 as x from a`));
    assert.match((await problemsOf("cycle.yml"))[0], /^cycle\.yml: stage "(a|b)": from: cycle through "(a|b)"$/);
  });

  it("reports YAML syntax errors with the line", async () => {
    await writeFile(join(root, "syntax.yml"), "name: shop\nstages: [\n");
    assert.match((await problemsOf("syntax.yml"))[0], /^syntax\.yml:\d+: not valid YAML/);
  });

  it("reports a bad schedule through the shared pipeline check", async () => {
    await writeFile(join(root, "schedule.yml"), yaml("").replace('"0 */15 * * * *"', '"every day"'));
    assert.deepEqual(await problemsOf("schedule.yml"), [
      'schedule.yml: pipeline "shop": schedule: "every day" is not an NCRONTAB expression (six fields, seconds first, e.g. "0 */15 * * * *")',
    ]);
  });
});

describe("model SQL checks at load time", () => {
  it("refuses a missing SQL file", async () => {
    await writeFile(join(root, "missing-sql.yml"), yaml(`
  - silver: clean
    from: orders
    sql: transformations/nope.sql`));
    assert.deepEqual(await problemsOf("missing-sql.yml"), [
      `stage "clean": sql: file not found: transformations/nope.sql (looked in ${root})`,
    ]);
  });

  it("refuses SQL that reads a table that is not an input", async () => {
    await writeFile(join(root, "sneaky.yml"), yaml(`
  - silver: joined
    from: orders
    sql: transformations/sneaky.sql`));
    assert.deepEqual(await problemsOf("sneaky.yml"), [
      'stage "joined": sql (transformations/sneaky.sql): reads "customers", which is not an input (inputs: orders); add it to from',
    ]);
  });

  it("accepts CTEs and the __history view of a bronze input", async () => {
    await writeFile(join(root, "cte.yml"), yaml(`
  - silver: versions
    from: orders
    sql: with h as (select * from orders__history) select count(*) as n from h`));
    const p = await loadPipeline("cte.yml", root);
    assert.equal(p.stages.length, 2);
  });

  it("refuses SQL that does not parse", async () => {
    await writeFile(join(root, "parse.yml"), yaml(`
  - silver: broken
    from: orders
    sql: selec id from orders`));
    assert.match((await problemsOf("parse.yml"))[0], /^stage "broken": sql: .*syntax error/i);
  });

  it("refuses drop on a whole-table check", async () => {
    await writeFile(join(root, "drop.yml"), yaml(`
  - silver: clean
    from: orders
    sql: transformations/clean.sql
    checks:
      - rowCount: { min: 1 }
        severity: drop`));
    assert.deepEqual(await problemsOf("drop.yml"), [
      'stage "clean": checks.row_count(1..): severity "drop" needs a row check (row_count judges the whole table; use "warn" or "fail")',
    ]);
  });
});

describe("TypeScript pipelines", () => {
  it("needs a default export that is a pipeline", async () => {
    await writeFile(join(root, "no-default.ts"), "export const x = 1;\n");
    assert.deepEqual(await problemsOf("no-default.ts"), [
      'no-default.ts: default export must be a pipeline (export default pipeline("name", { … }))',
    ]);
  });

  it("reports a missing config file", async () => {
    assert.deepEqual(await problemsOf("nope.ts"), ["nope.ts: config file not found"]);
  });
});
