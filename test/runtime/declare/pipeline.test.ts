// Structural validation of a pipeline declaration: one test per message, each naming stage and field.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bronze, check, gold, pipeline, secret, silver, source, type Stage } from "../../../runtime/declare/index.ts";
import { ConfigError } from "../../../runtime/errors.ts";

const shop = source.postgres("shop", { connection: secret("shop-db-url") });
const orders = bronze.table(shop, { table: "public.orders", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] } });

function problems(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail("expected the declaration to be refused");
}

describe("pipeline()", () => {
  it("refuses a schedule that is not a string with a problem, not a TypeError (found by the fault suite's fuzzer)", () => {
    for (const schedule of [[], {}, 7, null]) {
      assert.match(problems(() => pipeline("shop", { schedule: schedule as unknown as string, stages: [orders] }))[0], /^pipeline "shop": schedule: expected an NCRONTAB expression .* \(got (object|number|null)\)$/);
    }
  });

  it("keeps every problem on one line when a name holds a line break", () => {
    const [problem] = problems(() => pipeline("a\nb", { schedule: "0 0 * * * *", stages: [orders] }));
    assert.equal(problem, 'pipeline "a\\nb": pipeline name "a\\nb" must start with a letter or _ and hold only letters, digits and _');
  });

  it("orders stages so inputs come first", () => {
    const clean = silver.model("orders_clean", { from: orders, sql: "select * from orders" });
    const revenue = gold.model("revenue", { from: { clean }, sql: "select count(*) from clean" });
    const p = pipeline("shop", { schedule: "0 */15 * * * *", stages: [revenue, clean, orders] });
    assert.deepEqual(p.stages.map((s) => s.name), ["orders", "orders_clean", "revenue"]);
  });

  it("names the stage and the view of an unknown input", () => {
    const clean = silver.model("orders_clean", { from: { o: orders }, sql: "select * from o" });
    assert.deepEqual(problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [clean] })), [
      'pipeline "shop": stage "orders_clean": from.o: unknown input "orders" (not in the pipeline\'s stages)',
    ]);
  });

  it("refuses two stages with one name", () => {
    const a = silver.model("dup", { from: orders, sql: "select 1" });
    const b = gold.model("dup", { from: orders, sql: "select 2" });
    assert.match(problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, a, b] }))[0], /stage "dup": duplicate name/);
  });

  it("reports a cycle with its path", () => {
    const a = silver.model("a", { from: orders, sql: "select 1" }) as { inputs: Record<string, Stage> } & Stage;
    const b = silver.model("b", { from: a, sql: "select 1" });
    a.inputs.b = b; // a cycle can only be built by mutation in TypeScript; YAML can name one directly
    assert.match(problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, a, b] }))[0], /from: cycle (a -> b -> a|b -> a -> b)/);
  });

  it("refuses a schedule that is not six-field NCRONTAB", () => {
    assert.deepEqual(problems(() => pipeline("shop", { schedule: "*/15 * * * *", stages: [orders] })), [
      'pipeline "shop": schedule: "*/15 * * * *" is not an NCRONTAB expression (six fields, seconds first, e.g. "0 */15 * * * *")',
    ]);
  });

  it("refuses schedules whose fields are out of range or never fire, naming the field", () => {
    const refused = (schedule: string) => problems(() => pipeline("shop", { schedule, stages: [orders] }));
    assert.deepEqual(refused("99 99 99 99 99 99"), ['pipeline "shop": schedule: "99 99 99 99 99 99": second 99 is outside 0-59 (six fields, seconds first, e.g. "0 */15 * * * *")']);
    assert.deepEqual(refused("0 0 25 * * *"), ['pipeline "shop": schedule: "0 0 25 * * *": hour 25 is outside 0-23 (six fields, seconds first, e.g. "0 */15 * * * *")']);
    assert.match(refused("0 0 0 * 1-13 *")[0], /: month 13 is outside 1-12 /);
    assert.match(refused("0 0 0 * * 7")[0], /: day-of-week 7 is outside 0-6 /);
    assert.match(refused("0 0 0 31 2 *")[0], /: that day never comes in those months /);
    for (const ok of ["0 */15 * * * *", "0 30 9 * * Mon-Fri", "0 0 9-17/2 * * 1-5", "*/30 * * * * *", "0 0 0 1 Jan,Jul *", "0 0 0 1 * Mon"]) {
      assert.doesNotThrow(() => pipeline("shop", { schedule: ok, stages: [orders] }), ok);
    }
  });

  it("names the field a TypeScript pipeline left out, instead of failing inside", () => {
    assert.deepEqual(problems(() => pipeline("shop", { stages: [orders] } as unknown as Parameters<typeof pipeline>[1])), [
      'pipeline "shop": schedule: expected an NCRONTAB expression such as "0 */15 * * * *" (missing)',
    ]);
    assert.deepEqual(problems(() => pipeline("shop", { schedule: "0 0 * * * *" } as unknown as Parameters<typeof pipeline>[1])), [
      'pipeline "shop": stages: missing (expected the list of the pipeline\'s stages)',
    ]);
  });

  it("refuses engine settings DuckDB would reject at run time", () => {
    assert.deepEqual(problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [orders], engine: { memoryLimit: "lots", threads: 0 } })), [
      'pipeline "shop": engine.memoryLimit: "lots" is not a size such as "1GB" or "512MiB"',
      'pipeline "shop": engine.threads: expected a whole number ≥ 1 (got 0)',
    ]);
  });

  it("needs sql or transform on a model, not both", () => {
    const none = silver.model("none", { from: orders });
    const both = silver.model("both", { from: orders, sql: "select 1", transform: async () => "select 1" });
    const found = problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, none, both] }));
    assert.deepEqual(found, [
      'pipeline "shop": stage "none": sql: a model needs sql or transform',
      'pipeline "shop": stage "both": sql: give sql or transform, not both',
    ]);
  });

  it("refuses names that are not identifiers", () => {
    const bad = silver.model("orders-clean", { from: orders, sql: "select 1" });
    assert.match(problems(() => pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, bad] }))[0], /stage name "orders-clean" must start with a letter/);
  });

  it("builds checks with names and default severity fail", () => {
    assert.deepEqual(check.notNull("id"), { kind: "not_null", column: "id", name: "not_null(id)", severity: "fail" });
    assert.equal(check.unique(["a", "b"], { severity: "warn" }).name, "unique(a, b)");
  });
});
