// The load-time SQL policy (runtime/config/sql-policy.ts) over every kind of SQL a user writes: model SQL,
// check SQL and row conditions, dedup expressions. What is refused names the stage, the field and the
// function or statement; what a model legitimately does (CTEs, subqueries over inputs, range, unnest) passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateModels } from "../../../runtime/config/validate-models.ts";
import { bronze, check, gold, pipeline, secret, silver, source } from "../../../runtime/declare/index.ts";
import type { Check } from "../../../runtime/declare/index.ts";
import { ConfigError } from "../../../runtime/errors.ts";

const shop = source.postgres("shop", { connection: secret("shop-db-url") });
const orders = bronze.table(shop, { table: "public.orders", primaryKey: ["id"] });

async function problemsOf(stages: Parameters<typeof pipeline>[1]["stages"]): Promise<readonly string[]> {
  try {
    await validateModels(pipeline("p", { schedule: "0 0 * * * *", stages: [orders, ...stages] }), process.cwd());
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}

const model = (sql: string, checks: Check[] = []) => gold.model("m", { from: { orders }, sql, checks });

describe("SQL policy", () => {
  it("lets a model do what models do: CTEs, joins and subqueries over its inputs, history views, range, unnest", async () => {
    assert.deepEqual(await problemsOf([model(`
      with recent as (select * from orders where id > (select max(id) - 10 from orders__history))
      select r.*, g.n, u.tag from recent r, range(3) g(n), unnest(['a', 'b']) u(tag)`,
      [check.sql("none_negative", "select * from model where id < 0"), check.expect("small", "id < (select max(id) from model)")])]), []);
  });

  it("refuses every statement that is not a SELECT, naming it", async () => {
    const statements: Record<string, string> = {
      COPY: "COPY (select 1) TO '/tmp/x.csv'", ATTACH: "ATTACH '/tmp/evil.duckdb'", INSTALL: "INSTALL httpfs", LOAD: "LOAD httpfs",
      SET: "SET enable_external_access = true", PRAGMA: "PRAGMA enable_profiling", EXPORT: "EXPORT DATABASE '/tmp/out'",
      CALL: "CALL pragma_version()", CREATE: "create table t as select 1", DETACH: "DETACH memory",
    };
    for (const [keyword, sql] of Object.entries(statements)) {
      assert.deepEqual(await problemsOf([model(sql)]), [`stage "m": sql: ${keyword} is refused: this SQL is one SELECT over its declared inputs`], sql);
    }
    assert.deepEqual(await problemsOf([model("select * from orders; select 2")]), ['stage "m": sql: 2 statements; a model or check is one SELECT']);
  });

  it("refuses every table function outside the allow-list, wherever it hides", async () => {
    const hidden = [
      "select * from read_parquet('lake/silver/x/*.parquet')", "select * from parquet_scan('x.parquet')", "select * from read_json_auto('x')",
      "select * from orders where id in (select 1 from read_blob('/etc/shadow'))", "select * from query('select 1')",
      "select * from orders join sniff_csv('/etc/hosts') on true", "select * from (from read_text('/etc/passwd'))",
    ];
    for (const sql of hidden) {
      const [problem, ...rest] = await problemsOf([model(sql)]);
      assert.match(problem, /^stage "m": sql: [a-z_]+\(\) is refused: this SQL reads only its declared inputs \(files come in through a source; table functions allowed: range, generate_series, unnest, json_each, json_tree\)$/, sql);
      assert.deepEqual(rest, [], sql);
    }
  });

  it("checks row conditions, check queries and dedup expressions the same way, including one that closes its own parenthesis", async () => {
    const people = silver.dedup("people", {
      from: orders,
      id: "id",
      prepare: { clean: "(select max(content) from read_text('/etc/passwd'))" },
      blocking: [["clean"], ["1) AS v FROM glob('/root/*') --"]],
      compare: {
        name: { column: "(select 1 from read_csv('/etc/hosts'))", levels: [{ kind: "exact" }] },
        email: { levels: [{ kind: "sql", sql: "l.email = (select content from read_text('mallard.secrets.json'))", label: "leak" }] },
      },
    });
    const problems = await problemsOf([
      model("select * from orders", [check.expect("peek", "id in (select 1 from read_text('/etc/shadow'))"), check.sql("leak", "select * from 'mallard.secrets.json'")]),
      people,
    ]);
    assert.deepEqual(problems.map((p) => p.replace(/ is refused: .*| a file or URL.*/, "")), [
      'stage "m": checks.peek.condition: read_text()',
      'stage "m": checks.leak.sql: reads "mallard.secrets.json",',
      'stage "people": prepare.clean: read_text()',
      'stage "people": compare.name.column: read_csv()',
      'stage "people": compare.email.levels[0].sql: read_text()',
      'stage "people": blocking[1]: glob()',
    ]);
  });
});
