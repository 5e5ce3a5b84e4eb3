// A folder drop leaves files that changed within the settle time for the next run, and says so: the run
// record counts them (`settling`) and `mallard run` prints how many and that the next run takes them.
// `settle: "0 seconds"` takes every file at once. Real CLI, real folder, real local lake.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mallardArgs } from "../../../helpers/cli.ts";

let dir: string;

function mallard(args: string[]) {
  const result = spawnSync(process.execPath, mallardArgs(args), { cwd: dir, encoding: "utf8" });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const pipelineYaml = (settle?: string) => `
name: drops
schedule: "0 0 * * * *"
sources:
  drop: { kind: files, folder: drop }
stages:
  - bronze: orders
    source: drop
    files: "*.csv"
    primaryKey: id
${settle ? `    settle: "${settle}"\n` : ""}`;

/** The task records of the pipeline's runs, newest run first. */
async function taskRecords(lake: string): Promise<{ stage: string; rowsOut?: number; settling?: number; note?: string }[][]> {
  const files = (await readdir(join(dir, lake), { recursive: true })).filter((f) => /runs[\\/]drops[\\/].*\.json$/.test(f)).sort().reverse();
  return Promise.all(files.map(async (f) => Object.values(JSON.parse(await readFile(join(dir, lake, f), "utf8")).tasks as Record<string, never>)));
}

const age = async (file: string, seconds: number) => {
  const when = new Date(Date.now() - seconds * 1000);
  await utimes(join(dir, "drop", file), when, when);
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-settle-"));
  await mkdir(join(dir, "drop"));
  await writeFile(join(dir, "drop", "a.csv"), "id,amount\n1,10\n2,20\n");
  await writeFile(join(dir, "drop", "b.csv"), "id,amount\n3,30\n");
  await writeFile(join(dir, "drop", "c.csv"), "id,amount\n4,40\n");
  await age("a.csv", 3600);
});
after(() => rm(dir, { recursive: true, force: true }));

describe("a folder drop's settle time", () => {
  it("leaves fresh files for the next run and says how many, in the output and the run record", async () => {
    await writeFile(join(dir, "default.yml"), pipelineYaml());
    const first = mallard(["run", "--config", "default.yml", "--lake", "lake1"]);
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /orders.*2 rows/);
    assert.match(first.out, /2 files changed in the last 30 s left to settle \(settle: "30 seconds"\): the next run takes them/);
    const [tasks] = await taskRecords("lake1");
    const orders = tasks.find((t) => t.stage === "orders")!;
    assert.equal(orders.rowsOut, 2);
    assert.equal(orders.settling, 2);

    // Once they have settled, the next run takes them, and says nothing about settling.
    await age("b.csv", 60);
    await age("c.csv", 60);
    const second = mallard(["run", "--config", "default.yml", "--lake", "lake1"]);
    assert.equal(second.code, 0, second.out + second.err);
    assert.match(second.out, /orders.*2 rows/);
    assert.doesNotMatch(second.out, /left to settle/);
    const [latest] = await taskRecords("lake1");
    assert.equal(latest.find((t) => t.stage === "orders")!.settling, undefined);
  });

  it("settle: \"0 seconds\" loads files written just now", async () => {
    await writeFile(join(dir, "drop", "d.csv"), "id,amount\n5,50\n");
    await writeFile(join(dir, "zero.yml"), pipelineYaml("0 seconds"));
    const run = mallard(["run", "--config", "zero.yml", "--lake", "lake2"]);
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, /orders.*5 rows/);
    assert.doesNotMatch(run.out, /left to settle/);
  });

  it("a longer declared settle time leaves files the default would take (a.csv, an hour old, too)", async () => {
    await writeFile(join(dir, "long.yml"), pipelineYaml("2 hours"));
    const run = mallard(["run", "--config", "long.yml", "--lake", "lake3"]);
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, /orders.*0 rows/);
    assert.match(run.out, /4 files changed in the last 7200 s left to settle \(settle: "7200 seconds"\)/);
  });

  it("a full load waits for every file to settle, keeping its last snapshot (a partial snapshot would drop rows)", async () => {
    await mkdir(join(dir, "drop", "full"));
    await writeFile(join(dir, "drop", "full", "x.csv"), "id,amount\n1,10\n2,20\n");
    await writeFile(join(dir, "drop", "full", "z.csv"), "id,amount\n3,30\n");
    await age("full/x.csv", 3600);
    await age("full/z.csv", 3600);
    await writeFile(join(dir, "full.yml"), pipelineYaml().replace(`files: "*.csv"`, `files: "full/*.csv"\n    load: full`));
    const count = () => {
      const r = mallard(["query", "--config", "full.yml", "--lake", "lake4", "--format", "json", "select count(*)::int as n from orders"]);
      assert.equal(r.code, 0, r.out + r.err);
      return JSON.parse(r.out.trim()).n as number;
    };
    assert.equal(mallard(["run", "--config", "full.yml", "--lake", "lake4"]).code, 0);
    assert.equal(count(), 3);

    // z.csv is being rewritten (the day's new state): it is still settling.
    await writeFile(join(dir, "drop", "full", "z.csv"), "id,amount\n3,31\n4,40\n");
    const waiting = mallard(["run", "--config", "full.yml", "--lake", "lake4"]);
    assert.equal(waiting.code, 0, waiting.out + waiting.err);
    assert.match(waiting.out, /orders: 0 rows .*1 file changed in the last 30 s left to settle .*the table keeps its last snapshot/);
    assert.equal(count(), 3, "the last snapshot (x and the old z), not x.csv alone");

    await age("full/z.csv", 60);
    assert.equal(mallard(["run", "--config", "full.yml", "--lake", "lake4"]).code, 0);
    assert.equal(count(), 4);
  });
});
