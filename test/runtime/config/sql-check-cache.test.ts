// The cache of SQL that passed the load-time checks: an unchanged pipeline is not parsed again, and
// anything a verdict depends on (the SQL, the inputs it may read, DuckDB's version, the checker's code)
// changed means the real check runs again, with the same message as without a cache. Real DuckDB and files.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { checkerIdentity, SQL_CHECK_CACHE } from "../../../runtime/config/sql-check-cache.ts";
import { validateModels } from "../../../runtime/config/validate-models.ts";
import { pipelineFromYaml } from "../../../runtime/declare/yaml.ts";
import { ConfigError } from "../../../runtime/errors.ts";

const identity = { checker: "test-checker", duckdb: "1.0.0" };
const roots: string[] = [];
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "mallard-sql-cache-"));
  roots.push(root);
  await mkdir(join(root, "transformations"));
  await writeFile(join(root, "transformations", "clean.sql"), "select id, total from orders where total > 0");
});
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

/** A pipeline of a bronze table (and `customers` when `withCustomers`), a model and a dedup. */
const pipeline = (opts: { from?: string; withCustomers?: boolean; checkCondition?: string } = {}) => pipelineFromYaml(`
name: shop
schedule: "0 */15 * * * *"
sources:
  shop: { kind: postgres, connection: { secret: shop-db-url } }
stages:
  - bronze: orders
    source: shop
    table: public.orders
    primaryKey: [id]
${opts.withCustomers ? `  - bronze: customers
    source: shop
    table: public.customers
    primaryKey: [id]
` : ""}  - silver: clean
    from: ${opts.from ?? "orders"}
    sql: transformations/clean.sql
    checks:
      - expect: "${opts.checkCondition ?? "total > 0"}"
        name: positive
      - sql: select * from model where total > 1000000
        name: no_huge_totals
`, "p.yml");

async function refusal(run: Promise<unknown>): Promise<readonly string[]> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  return error.problems;
}

describe("the cache of passed SQL checks", () => {
  it("parses an unchanged pipeline once", async () => {
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 3, cached: 0 });
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 0, cached: 3 });
    const file = JSON.parse(await readFile(join(root, SQL_CHECK_CACHE), "utf8")) as { passed: string[] };
    assert.equal(file.passed.length, 3);
  });

  it("checks changed SQL again, and refuses it with the message a first check gives", async () => {
    await validateModels(pipeline(), root, identity);
    await writeFile(join(root, "transformations", "clean.sql"), "select o.id, o.total from orders o join customers c on c.id = o.id");
    assert.deepEqual(await refusal(validateModels(pipeline(), root, identity)), [
      'stage "clean": sql (transformations/clean.sql): reads "customers", which is not an input (inputs: orders); add it to from',
    ]);
    // Put back, the file is the SQL that passed: known again.
    await writeFile(join(root, "transformations", "clean.sql"), "select id, total from orders where total > 0");
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 0, cached: 3 });
  });

  it("never remembers a refusal", async () => {
    const bad = pipeline({ checkCondition: "(select count(*) from read_csv('/etc/passwd')) > 0" });
    const first = await refusal(validateModels(bad, root, identity));
    assert.match(first[0], /^stage "clean": checks\.positive\.condition: read_csv\(\) is refused/);
    assert.deepEqual(await refusal(validateModels(bad, root, identity)), first);
  });

  it("checks the same SQL again when the inputs it may read change", async () => {
    await writeFile(join(root, "transformations", "clean.sql"), "select o.id, o.total from orders o join customers c on c.id = o.id");
    assert.deepEqual(await validateModels(pipeline({ from: "[orders, customers]", withCustomers: true }), root, identity), { parsed: 3, cached: 0 });
    // `customers` is no longer declared: the SQL text is the same, the verdict is not.
    const problems = await refusal(validateModels(pipeline({ withCustomers: true }), root, identity));
    assert.deepEqual(problems, ['stage "clean": sql (transformations/clean.sql): reads "customers", which is not an input (inputs: orders); add it to from']);
  });

  it("checks everything again under another DuckDB or another checker", async () => {
    await validateModels(pipeline(), root, identity);
    assert.deepEqual(await validateModels(pipeline(), root, { ...identity, duckdb: "1.0.1" }), { parsed: 3, cached: 0 });
    assert.deepEqual(await validateModels(pipeline(), root, { ...identity, checker: "changed" }), { parsed: 3, cached: 0 });
    // Each identity's passes are kept side by side: switching back costs nothing.
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 0, cached: 3 });
  });

  it("checks everything when the cache file is torn, and when it cannot be written", async () => {
    await mkdir(join(root, ".mallard", "cache"), { recursive: true });
    await writeFile(join(root, SQL_CHECK_CACHE), '{"passed": ["ab');
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 3, cached: 0 });
    assert.deepEqual(await validateModels(pipeline(), root, identity), { parsed: 0, cached: 3 });

    const readOnly = await mkdtemp(join(tmpdir(), "mallard-sql-cache-"));
    roots.push(readOnly);
    await mkdir(join(readOnly, "transformations"));
    await writeFile(join(readOnly, "transformations", "clean.sql"), "select id, total from orders where total > 0");
    await writeFile(join(readOnly, ".mallard"), "a file where the work folder would be");
    assert.deepEqual(await validateModels(pipeline(), readOnly, identity), { parsed: 3, cached: 0 });
    assert.deepEqual(await validateModels(pipeline(), readOnly, identity), { parsed: 3, cached: 0 });
  });

  it("knows this checker from source: its files' hash and the installed DuckDB", () => {
    const mine = checkerIdentity();
    assert.ok(mine, "running from source, the checker has an identity");
    assert.match(mine.checker, /^source:[0-9a-f]{64}$/);
    assert.match(mine.duckdb, /^\d+\.\d+\.\d+/);
  });
});
