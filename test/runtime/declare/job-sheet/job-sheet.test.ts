// Job sheets through the one loader: an .xlsx saved by LibreOffice Calc (test/fixtures/job-sheet) and CSV
// files become the same declarations a YAML pipeline would, and every problem is one line naming the
// file, sheet, row and column.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadPipeline } from "../../../../runtime/config/load-pipeline.ts";
import { declarationFrom } from "../../../../runtime/declare/embedded.ts";
import { readDataDeclaration } from "../../../../runtime/declare/load.ts";
import type { BronzeTable } from "../../../../runtime/declare/stages.ts";
import { ConfigError } from "../../../../runtime/errors.ts";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/job-sheet/", import.meta.url));
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-jobsheet-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The problems loading `file` (relative to `root`) reports. */
async function problems(file: string, root = dir): Promise<readonly string[]> {
  try {
    await loadPipeline(file, root);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail(`${file} loaded`);
}

const bronze = (stages: readonly { kind: string }[]) => stages.filter((s): s is BronzeTable => s.kind === "bronze.table");

/** A job sheet CSV beside a companion declaring source `shop` (postgres) and `api` (REST). */
async function csvSheet(name: string, text: string, companion = ""): Promise<string> {
  await writeFile(join(dir, `${name}.csv`), text);
  await writeFile(join(dir, `${name}.yml`), `name: ${name}\nschedule: "0 0 * * * *"\nsources:\n  shop: { kind: postgres, connection: { secret: db } }\n  api: { kind: rest, baseUrl: "https://example.com" }\n${companion}`);
  return `${name}.csv`;
}

describe("job sheet (.xlsx saved by LibreOffice)", () => {
  it("declares one bronze table per enabled row, with the companion's sources and models", async () => {
    const pipeline = await loadPipeline("jobs.xlsx", FIXTURES);
    assert.equal(pipeline.name, "jobsheet_e2e");
    const tables = bronze(pipeline.stages);
    assert.deepEqual(tables.map((t) => t.name), ["orders", "customers_raw", "Order_Lines"]);
    const [orders, customers, lines] = tables;
    assert.equal(orders.source.name, "shop");
    assert.deepEqual(orders.resource, { kind: "table", table: "jobsheet_e2e.orders" });
    assert.deepEqual(orders.primaryKey, ["id"]);
    // A look-back typed as 0:10 is saved as a time of day; a partition count typed as text is a number.
    assert.deepEqual(orders.incremental, { cursor: ["updated_at", "id"], lookBack: "600 seconds" });
    assert.deepEqual(orders.partitions, { kind: "chunks", column: "id", count: 3 });
    assert.equal(orders.deletes, "keyScan");
    // The source cell is merged over this row and the one above.
    assert.equal(customers.source.name, "shop");
    assert.equal(customers.incremental, undefined);
    assert.deepEqual(customers.resource, { kind: "table", table: "jobsheet_e2e.customers" });
    // No load type, a cursor: incremental. Partitions from a formula's saved result.
    assert.deepEqual(lines.resource, { kind: "table", table: 'jobsheet_e2e."Order Lines"' });
    assert.deepEqual(lines.primaryKey, ["order_id", "line_no"]);
    assert.deepEqual(lines.incremental, { cursor: ["changed_at"], lookBack: "1 hour" });
    assert.deepEqual(lines.partitions, { kind: "chunks", column: "order_id", count: 2 });
    // The companion's model reads a sheet's stage by name.
    const model = pipeline.stages.find((s) => s.name === "order_totals");
    assert.ok(model && model.kind === "silver.model" && model.inputs.orders === orders);
  });

  it("names the file, sheet, row and column of every bad cell, one line each", async () => {
    const found = await problems("bad.xlsx", FIXTURES);
    assert.deepEqual([...found].sort(), [
      'bad.xlsx: sheet "jobs", row 2, column "look back": the number 10, expected a duration such as "10 minutes" (say the unit)',
      'bad.xlsx: sheet "jobs", row 3, column "cursor": a full load reads every row and has no cursor: clear the cell or set load to incremental',
      'bad.xlsx: sheet "jobs", row 5, column "partitions": the cell holds #DIV/0!: fix the cell (or its formula)',
      'bad.xlsx: sheet "jobs", row 6, column "load": "snapshot", expected full or incremental',
      'bad.xlsx: sheet "jobs", row 6, column "partitions": "many", expected a whole number',
    ]);
  });

  it("names the row and column of a problem the YAML builders find (an unknown source: bad.xlsx row 4 alone)", async () => {
    const csv = await csvSheet("unknown", "source,table,primary key\nwarehouse,public.stock,sku\n");
    assert.deepEqual(await problems(csv), ['unknown.csv: row 2, column "source": unknown source "warehouse" (sources: shop, api)']);
  });

  it("is embedded as plain data and validated the same way from it (the Functions bundle's path)", async () => {
    const source = await readDataDeclaration(join(FIXTURES, "jobs.xlsx"), "jobs.xlsx");
    const again = declarationFrom(JSON.parse(JSON.stringify(source)));
    assert.deepEqual(bronze(again.stages).map((t) => t.name), ["orders", "customers_raw", "Order_Lines"]);
    const bad = await readDataDeclaration(join(FIXTURES, "bad.xlsx"), "bad.xlsx");
    assert.throws(() => declarationFrom(JSON.parse(JSON.stringify(bad))), (e: unknown) => e instanceof ConfigError && e.problems.length === 5);
  });
});

describe("job sheet (.csv)", () => {
  it("reads semicolon-separated CSV, headers in any case and spacing, numbers as text, empty rows", async () => {
    const file = await csvSheet("semi", "\uFEFFSOURCE ; Table;Primary_Key;LOAD TYPE;Cursor;Look Back;Partitions;Enabled;Comment\n" +
      "shop;sales.orders;id;Incremental;updated_at;15m;08;;first\n;;;;;;;;\nshop;sales.items;order_id, line;full;;;;no;off for now\n");
    const pipeline = await loadPipeline(file, dir);
    const [orders] = bronze(pipeline.stages);
    assert.equal(bronze(pipeline.stages).length, 1);
    assert.deepEqual(orders.incremental, { cursor: ["updated_at"], lookBack: "15 minutes" });
    assert.deepEqual(orders.partitions, { kind: "chunks", column: "id", count: 8 });
  });

  it("runs the kind's checks and names the column (deletes on a full load)", async () => {
    const file = await csvSheet("del", "source,table,primary key,deletes\nshop,public.a,id,yes\n");
    assert.deepEqual(await problems(file), ['del.csv: row 2, column "deletes": keyScan is for incremental loads (a full load already drops deleted rows); add incremental or remove deletes']);
  });

  it("refuses unknown columns, a missing required column and values under no header", async () => {
    const file = await csvSheet("cols", "source,table,primry key\nshop,public.a,id\n");
    const found = await problems(file);
    assert.ok(found.some((p) => p.startsWith('cols.csv: row 1, column C: unknown column "primry key" (columns: stage, source, table,')), found.join("\n"));
    assert.ok(found.includes('cols.csv: row 1: no "primary key" column (the header row names: source, table, primry key)'), found.join("\n"));
    const stray = await csvSheet("stray", "source,table,primary key\nshop,public.a,id,oops\n");
    assert.deepEqual(await problems(stray), ["stray.csv: row 2, column D: a value under no header (name the column, or move the value)"]);
  });

  it("refuses two rows with one stage name, and names a row's REST source", async () => {
    const dup = await csvSheet("dup", "source,table,primary key\nshop,a.orders,id\nshop,b.orders,id\n");
    assert.deepEqual(await problems(dup), ['dup.csv: row 3, column "table": stage "orders" is row 2\'s name too (two tables of that name): give one a stage name in a "stage" column']);
    const rest = await csvSheet("rest", "source,table,primary key\napi,public.a,id\n");
    const [problem] = await problems(rest);
    assert.match(problem, /^rest\.csv: row 2, column "source": source "api" is a REST API: name an endpoint/);
  });

  it("refuses a stage name a duplicate of the companion's, naming both places", async () => {
    const file = await csvSheet("clash", "stage,source,table,primary key\norders_clean,shop,public.a,id\n",
      "stages:\n  - silver: orders_clean\n    from: [orders_clean]\n    sql: select 1 as x\n");
    const found = await problems(file);
    assert.ok(found.some((p) => /duplicate name \(stages\[0\] at line \d+ and clash\.csv: row 2\)/.test(p)), found.join("\n"));
  });

  it("asks for .xlsx when given another spreadsheet format", async () => {
    await writeFile(join(dir, "old.ods"), "");
    assert.deepEqual(await problems("old.ods"), ["old.ods: a job sheet is read from .xlsx or .csv: save it as an Excel workbook (.xlsx)"]);
  });

  it("needs its companion YAML", async () => {
    await writeFile(join(dir, "alone.csv"), "source,table,primary key\nshop,public.a,id\n");
    assert.deepEqual(await problems("alone.csv"), ['alone.csv: no alone.yml beside it: a job sheet names its sources, and alone.yml declares them (name, schedule, sources; see the README\'s "Job sheets")']);
  });
});
