// The stage-kind registries: every kind has its declaration side (runtime/declare/kinds), its run side
// (runtime/stages) and its needs (infra/stages), each piece works on a stage of that kind, and the
// registries the Pulumi program and the Azure driver load do not pull in DuckDB. The compiler checks
// the same completeness: the `@ts-expect-error` lines below make `npm run typecheck` fail if a kind
// module or a registry missing a piece ever compiles.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { build } from "esbuild";
import type { BronzeTable, Stage, StageKind } from "../../../runtime/declare/index.ts";
import { SCHEDULE_SETTINGS } from "../../../runtime/declare/deployment.ts";
import { DECLARED_KINDS, declaredKind } from "../../../runtime/declare/kinds/index.ts";
import type { DeclaredKind } from "../../../runtime/declare/kinds/kind.ts";
import { pipelineFromYaml } from "../../../runtime/declare/yaml.ts";
import { kindOf, STAGE_KINDS, type StageKindModule } from "../../../runtime/stages/index.ts";
import { bronzeTable } from "../../../runtime/stages/bronze-table/index.ts";
import { bronzeTable as bronzeTableDeclared } from "../../../runtime/declare/kinds/bronze-table.ts";
import { NEEDS, stageNeeds } from "../../../infra/stages/index.ts";

// One stage of every kind, written in YAML. A kind added to the registries without an example here fails
// the first test, so its YAML form is exercised from the day it exists.
const EVERY_KIND = `
name: kinds
schedule: "0 */15 * * * *"
sources:
  shop: { kind: postgres, connection: { secret: shop-db-url } }
stages:
  - bronze: customers
    source: shop
    table: public.customers
    primaryKey: id
    partitions: { kind: chunks, column: id, count: 3 }
    schedule: "0 */5 * * * *"
  - dedup: people
    from: customers
    id: id
    blocking: [[last_name]]
    compare:
      first_name: { levels: [{ kind: exact }] }
  - silver: customers_clean
    from: { c: customers }
    sql: select * from c
  - gold: customer_count
    from: [customers_clean, people]
    sql: select count(*) as n from customers_clean
`;

const pipeline = pipelineFromYaml(EVERY_KIND, "kinds.yml");
const kinds = Object.keys(DECLARED_KINDS) as StageKind[];

describe("stage-kind registries", () => {
  it("list the same kinds on the declaration, run and infra sides, each with an example above", () => {
    assert.deepEqual(Object.keys(STAGE_KINDS).sort(), [...kinds].sort());
    assert.deepEqual(Object.keys(NEEDS).sort(), [...kinds].sort());
    assert.deepEqual([...new Set(pipeline.stages.map((s) => s.kind))].sort(), [...kinds].sort());
  });

  it("have every piece of every kind", () => {
    for (const kind of kinds) {
      const declared: DeclaredKind<Stage> = DECLARED_KINDS[kind] as DeclaredKind<Stage>;
      const run: StageKindModule<Stage> = STAGE_KINDS[kind] as StageKindModule<Stage>;
      for (const piece of [declared.yaml.build, declared.inputs, declared.check, declared.schedule, run.tasks, run.run, run.describe, run.status, run.views.register, NEEDS[kind]]) {
        assert.equal(typeof piece, "function", `${kind}: a piece is not a function`);
      }
      assert.ok(Array.isArray(run.views.companions), `${kind}: views.companions`);
    }
    const keys = Object.values(DECLARED_KINDS).map((k) => k.yaml.key);
    assert.equal(new Set(keys).size, keys.length, `two kinds share a YAML key: ${keys.join(", ")}`);
  });

  it("build each kind from its YAML key, and answer for a stage of that kind", async () => {
    const byName = new Map(pipeline.stages.map((s) => [s.name, s]));
    assert.deepEqual(Object.fromEntries([...byName].map(([name, s]) => [name, s.kind])), {
      customers: "bronze.table", people: "silver.dedup", customers_clean: "silver.model", customer_count: "gold.model",
    });
    for (const stage of pipeline.stages) {
      assert.equal(kindOf(stage), STAGE_KINDS[stage.kind]);
      assert.equal(declaredKind(stage), DECLARED_KINDS[stage.kind]);
      assert.deepEqual(declaredKind(stage).check(stage), [], stage.name);
      const tasks = kindOf(stage).tasks(stage, ["upstream"]);
      assert.equal(tasks.at(-1)!.id, stage.name, `${stage.name}: the stage's own task comes last`);
      assert.ok(kindOf(stage).describe(stage).length > 0);
      assert.ok(stageNeeds(stage, pipeline));
    }
    assert.deepEqual(declaredKind(byName.get("customer_count")!).inputs(byName.get("customer_count")!), {
      customers_clean: byName.get("customers_clean"), people: byName.get("people"),
    });
    assert.deepEqual(declaredKind(byName.get("customers")!).inputs(byName.get("customers")!), {});
  });

  it("keep what is kind-specific with the kind: partitions, schedule, companion views, plan lines", () => {
    const customers = pipeline.stages.find((s) => s.name === "customers")!;
    assert.deepEqual(kindOf(customers).tasks(customers, ["x"]).map((t) => [t.id, t.dependsOn.join(",")]), [
      ["customers#0", "x"], ["customers#1", "x"], ["customers#2", "x"], ["customers", "customers#0,customers#1,customers#2"],
    ]);
    assert.equal(declaredKind(customers).schedule(customers), "0 */5 * * * *");
    assert.deepEqual(stageNeeds(customers, pipeline).appSettings, { [SCHEDULE_SETTINGS.stage("customers")]: "0 */5 * * * *" });
    assert.deepEqual(pipeline.stages.map((s) => kindOf(s).views.companions), [["__history"], ["__entities", "__links"], [], []]);
    assert.deepEqual(pipeline.stages.map((s) => kindOf(s).describe(s)), [
      "shop:public.customers full load",
      "dedup of customers by id, 1 comparisons",
      "from c=customers",
      "from customers_clean, people",
    ]);
  });
});

describe("the arrows", () => {
  /** Files a module loads when it is imported (static imports only; `await import()` waits until called). */
  async function loadedBy(entry: string): Promise<string[]> {
    const result = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: "node", format: "esm", packages: "external", logLevel: "silent" });
    const seen = new Set<string>();
    const next = [entry];
    while (next.length) {
      const file = next.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of result.metafile.inputs[file]?.imports ?? []) {
        if (i.kind !== "import-statement") continue;
        if (i.external) seen.add(i.path);
        else next.push(i.path);
      }
    }
    return [...seen];
  }

  it("the declaration side, which the Pulumi program loads, reaches neither the engine nor the run side", async () => {
    for (const entry of ["runtime/declare/yaml.ts", "runtime/declare/kinds/index.ts", "infra/stages/index.ts"]) {
      const files = await loadedBy(entry);
      assert.deepEqual(files.filter((f) => f.startsWith("@duckdb/") || f.startsWith("runtime/engine/engine") || f.startsWith("runtime/stages/")), [], entry);
    }
  });

  it("the run-side registry and the Azure driver load no DuckDB until a task runs", async () => {
    for (const entry of ["runtime/stages/index.ts", "runtime/orchestration/plan.ts", "runtime/orchestration/azure/driver.ts"]) {
      const files = await loadedBy(entry);
      assert.ok(files.includes("runtime/stages/index.ts"), `${entry} should reach the registry`);
      assert.deepEqual(files.filter((f) => f.startsWith("@duckdb/") || f.startsWith("runtime/engine/engine")), [], entry);
    }
  });
});

// Compile-time checks, enforced by `npm run typecheck`: each line below must stay a type error.
{
  const { run: _run, ...withoutRun } = bronzeTable;
  // @ts-expect-error a run-side kind module without `run` does not compile
  const _module: StageKindModule<BronzeTable> = withoutRun;
  const { yaml: _yaml, ...withoutYaml } = bronzeTableDeclared;
  // @ts-expect-error a declaration-side kind without its YAML form does not compile
  const _declared: DeclaredKind<BronzeTable> = withoutYaml;
  const { "silver.dedup": _dedup, ...runWithoutDedup } = STAGE_KINDS;
  // @ts-expect-error the run-side registry without one kind does not compile
  const _kinds: typeof STAGE_KINDS = runWithoutDedup;
  const { "silver.dedup": _dedupDeclared, ...declaredWithoutDedup } = DECLARED_KINDS;
  // @ts-expect-error the declaration-side registry without one kind does not compile
  const _declaredKinds: typeof DECLARED_KINDS = declaredWithoutDedup;
  const { "silver.dedup": _dedupNeeds, ...needsWithoutDedup } = NEEDS;
  // @ts-expect-error the infra registry without one kind does not compile
  const _needs: typeof NEEDS = needsWithoutDedup;
  // A module of one kind does not fit another kind's slot either.
  // @ts-expect-error a bronze module is not a silver.model module
  const _wrong: typeof STAGE_KINDS = { ...STAGE_KINDS, "silver.model": bronzeTable };
}
