// `mallard dedup explain <stage>` as a user runs it: after a run has published the input, the advisor
// prints each rule's pairs, union and largest blocks from the lake, exits 0 and writes nothing; an
// unknown stage is one line and exit 2.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mallardArgs } from "../../helpers/cli.ts";

let dir: string;

function mallard(args: string[]) {
  const result = spawnSync(process.execPath, mallardArgs(args), { cwd: dir, encoding: "utf8" });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-dedup-cli-"));
  await mkdir(join(dir, "drop"));
  // 300 people: four first names, two surnames, 40 birth years.
  const rows = Array.from({ length: 300 }, (_, i) => `${i},${["ana", "bob", "eve", "max"][i % 4]},${["smith", "jones"][Math.floor(i / 4) % 2]},19${50 + (i % 40)}-01-01`);
  await writeFile(join(dir, "drop", "people.csv"), `id,first_name,surname,dob\n${rows.join("\n")}\n`);
  // Older than a folder drop's settle time (30 s): a file written just now may still be being written.
  const settled = new Date(Date.now() - 3_600_000);
  await utimes(join(dir, "drop", "people.csv"), settled, settled);
  await writeFile(join(dir, "people.yml"), `
name: people
schedule: "0 0 * * * *"
sources:
  drop: { kind: files, folder: drop }
stages:
  - bronze: raw_people
    source: drop
    files: "people.csv"
    primaryKey: id
  - dedup: people
    from: raw_people
    id: id
    blocking: [[first_name, surname], dob]
    compare:
      first_name: { levels: [{ kind: exact }] }
      surname: { levels: [{ kind: exact }] }
      dob: { levels: [{ kind: exact }], conflict: true }
    pairBudget: 20000
`);
});
after(() => rm(dir, { recursive: true, force: true }));

describe("mallard dedup explain", () => {
  it("explains the blocking of a dedup stage on the lake's data", async () => {
    const run = mallard(["run", "--config", "people.yml", "--lake", "lake"]);
    assert.equal(run.code, 0, run.out + run.err);
    const before = await readdir(join(dir, "lake", "silver"), { recursive: true });
    const r = mallard(["dedup", "explain", "people", "--config", "people.yml", "--lake", "lake"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^dedup people: 300 records, pair budget 20,000/);
    assert.match(r.out, /the stage's saved model/);
    // Σ n(n-1)/2: 8 (first name, surname) groups of 37 or 38 records; 40 birth years of 7 or 8.
    assert.match(r.out, /blocking\[0\] first_name, surname +5,476 +5,476 .* 38 "(ana|bob|eve|max), (smith|jones)"/);
    assert.match(r.out, /blocking\[1\] dob +980 +0 /);
    assert.match(r.out, /\nunion +5,476 +100%/);
    assert.deepEqual(await readdir(join(dir, "lake", "silver"), { recursive: true }), before, "explain writes nothing");
    const json = mallard(["dedup", "explain", "people", "--config", "people.yml", "--lake", "lake", "--format", "json"]);
    assert.equal(json.code, 0, json.err);
    const advice = JSON.parse(json.out) as { union: number; rules: { pairs: number }[] };
    assert.equal(advice.union, 5476);
    assert.deepEqual(advice.rules.map((x) => x.pairs), [5476, 980]);
  });

  it("names the dedup stages when the stage is not one, exit 2", () => {
    const r = mallard(["dedup", "explain", "raw_people", "--config", "people.yml", "--lake", "lake"]);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'error: dedup explain: no silver.dedup stage "raw_people" (dedup stages: people)\n');
  });
});
