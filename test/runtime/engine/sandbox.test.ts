// The engine's own fence (runtime/engine/sandbox.ts), tested by running hostile SQL straight on a run's
// engine, as if the load-time check had been bypassed (a deployed bundle, a transform building SQL): every
// read outside the lake's table folders, every write outside the work folder, every extension and every
// setting is refused by DuckDB itself. And what Mallard does with the engine still works.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gold, pipeline, silver } from "../../../runtime/declare/index.ts";
import { copyToParquet, Engine, lakeAccess, queryRows } from "../../../runtime/engine/engine.ts";
import { StageError } from "../../../runtime/errors.ts";
import { runModel } from "../../../runtime/stages/model.ts";
import { publishQuery, readTable, scratchLake } from "../../helpers/lake.ts";
import { stageContext } from "../../helpers/stage-context.ts";

let project: string;
let scratch: Awaited<ReturnType<typeof scratchLake>>;
let engine: Engine;

before(async () => {
  // A project as a user has it: the secrets file beside the lake folder.
  project = await mkdtemp(join(tmpdir(), "mallard-sandbox-"));
  await writeFile(join(project, "mallard.secrets.json"), JSON.stringify({ "shop-db-url": "postgres://u:canary-5ecret@h/db" }));
  scratch = await scratchLake();
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(scratch.lake));
  await publishQuery(engine, scratch.lake, "silver/raw", "SELECT range AS id, 'x' || range AS name FROM range(5)");
});
after(async () => {
  await engine.close();
  await scratch.dispose();
  await rm(project, { recursive: true, force: true });
});

const refused = /Permission Error|disabled|locked/;

async function attempt(sql: string): Promise<string> {
  try {
    await engine.withConnection((con) => con.run(sql));
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
  return "ran";
}

describe("engine sandbox", () => {
  it("refuses files, URLs, databases, extensions and settings outside what Mallard needs", async () => {
    const outside = join(tmpdir(), `mallard-sandbox-out-${process.pid}`);
    const cases: Record<string, string> = {
      "the secrets file": `SELECT content FROM read_text('${join(project, "mallard.secrets.json")}')`,
      "/etc/passwd": "SELECT content FROM read_text('/etc/passwd')",
      "a glob": "SELECT * FROM glob('/root/*')",
      "read_csv of any path": "SELECT * FROM read_csv('/etc/hosts')",
      "a replacement scan": `SELECT * FROM '${join(project, "mallard.secrets.json")}'`,
      "a URL": "SELECT content FROM read_text('https://example.com/x')",
      "a traversal out of the lake": `SELECT content FROM read_text('${join(scratch.dir, "silver", "..", "..")}/${project.split("/").pop()}/mallard.secrets.json')`,
      "the lake's state and run records": `SELECT * FROM glob('${join(scratch.dir, "_mallard")}/**')`,
      "a sibling folder sharing the prefix": `SELECT * FROM read_text('${scratch.dir}/silver-x/a.txt')`,
      "COPY TO a file": `COPY (SELECT 1) TO '${outside}.csv'`,
      "ATTACH": `ATTACH '${outside}.duckdb'`,
      "EXPORT DATABASE": `EXPORT DATABASE '${outside}-export'`,
      "INSTALL": "INSTALL httpfs",
      "LOAD": "LOAD httpfs",
      "turning access back on": "SET enable_external_access = true",
      "unlocking": "SET lock_configuration = false",
      "widening the folders": "SET allowed_directories = ['/']",
      "a memory limit": "SET memory_limit = '64GB'",
    };
    for (const [what, sql] of Object.entries(cases)) assert.match(await attempt(sql), refused, what);
    assert.equal(existsSync(`${outside}.csv`), false);
    assert.equal(existsSync(`${outside}.duckdb`), false);
    const settings = await engine.withConnection((con) => queryRows<{ name: string; value: string }>(con,
      "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration', 'TimeZone') ORDER BY name"));
    assert.deepEqual(Object.fromEntries(settings.map((s) => [s.name, s.value])), {
      TimeZone: "UTC", autoinstall_known_extensions: "false", autoload_known_extensions: "false", enable_external_access: "false", lock_configuration: "true",
    });
  });

  it("still does what Mallard does: reads the lake, writes Parquet in its work folder, spills past its memory limit", async () => {
    assert.deepEqual((await readTable(engine, scratch.lake, "silver/raw", "id")).map((r) => r.id), [0n, 1n, 2n, 3n, 4n]);
    const file = join(engine.workDir, "out.parquet");
    await engine.withConnection((con) => copyToParquet(con, "SELECT * FROM range(10)", file));
    assert.ok(existsSync(file));
    const small = await Engine.create({ memoryLimit: "32MB", threads: 1 });
    try {
      // A sorted table of ~50 MB held under a 32 MB limit: it only fits by spilling to the work folder.
      const spilled = await small.withConnection(async (con) => {
        await con.run("CREATE TEMP TABLE t AS SELECT md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s FROM range(700000) ORDER BY s");
        const [{ n }] = await queryRows<{ n: bigint }>(con, "SELECT count(*) AS n FROM t");
        assert.equal(n, 700000n);
        return queryRows<{ path: string }>(con, "SELECT path FROM duckdb_temporary_files()");
      });
      assert.ok(spilled.length > 0 && spilled.every((f) => f.path.startsWith(small.workDir)), JSON.stringify(spilled));
    } finally {
      await small.close();
    }
  });

  it("a TypeScript transform gets the same locked engine", async () => {
    const raw = silver.model("raw", { from: {}, sql: "select 1" });
    const target = join(project, "stolen.csv");
    const stage = gold.model("thief", {
      from: { raw },
      transform: async (con) => {
        await con.run(`COPY (SELECT content FROM read_text('${join(project, "mallard.secrets.json")}')) TO '${target}'`);
        return "select 1 as x";
      },
    });
    const ctx = stageContext({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [raw, stage] }), stage, lake: scratch.lake, engine });
    await assert.rejects(runModel(ctx), (e: unknown) => e instanceof StageError && /stage "thief": transform: .*Permission Error/.test(e.message));
    assert.equal(existsSync(target), false);
  });

  it("an Azure lake's cache folder is what its engine may read", async () => {
    const { AzureLake } = await import("../../../runtime/lake/azure-lake.ts");
    const cache = join(project, "cache");
    await mkdir(cache);
    const lake = new AzureLake({ connection: { kind: "connectionString", connectionString: "UseDevelopmentStorage=true" }, cache: { dir: cache } });
    assert.deepEqual(lakeAccess(lake).directories, ["bronze", "silver", "gold"].map((f) => join(cache, f)));
    assert.deepEqual(lakeAccess(lake.scope()).directories, lakeAccess(lake).directories);
  });
});
