// The `mallard` command as a user meets it: exit codes (0 ok, 1 stage or check failed, 2 bad config or
// usage), one clear line for expected failures and no stack trace, and never a password on screen.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { mallardArgs } from "../../helpers/cli.ts";

let dir: string;

function mallard(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, mallardArgs(args), { cwd: dir, encoding: "utf8", env: { ...process.env, ...env } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-cli-"));
  await writeFile(join(dir, "models.yml"), `
name: models
schedule: "0 0 * * * *"
sources:
  db: { kind: postgres, connection: "postgres://reader:hunter2@127.0.0.1:1/nowhere" }
stages:
  - bronze: events
    source: db
    table: public.events
    primaryKey: id
  - silver: clean
    from: events
    sql: select * from events
`);
  await writeFile(join(dir, "bad.yml"), `
name: bad
schedule: "0 0 * * * *"
sources: {}
stages:
  - gold: g
    from: missing
    sql: select 1 as x
`);
});
after(() => rm(dir, { recursive: true, force: true }));

describe("mallard CLI", () => {
  it("plan prints the stages in execution order", () => {
    const r = mallard(["plan", "--config", "models.yml"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1\. events\s+bronze\.table\s+db:public\.events full load\n\s+2\. clean\s+silver\.model\s+from events/);
  });

  it("exits 2 with one line per problem for a bad config, no stack", () => {
    const r = mallard(["run", "--config", "bad.yml", "--lake", "lake"]);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'error: bad.yml: stage "g": from.missing: unknown input "missing" (stages: g)\n');
  });

  it("refuses model and check SQL that reads files, URLs or the secrets file before any task runs (exit 2, one line each)", () => {
    const fixture = fileURLToPath(new URL("../../infra/fixtures/pipelines/reaches-out.yml", import.meta.url));
    const r = mallard(["run", "--config", fixture, "--lake", "reached-lake"]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^error: 9 problems:\n/);
    for (const refused of ['"secrets": sql: read_text()', '"listing": sql: glob()', '"any_csv": sql: read_csv()', '"url": sql: read_text()',
      '"bare_file": sql: reads "mallard.secrets.json"', '"copy_out": sql: COPY is refused', '"attach": sql: ATTACH is refused', '"checked": checks.shadow.sql: read_text()']) {
      assert.ok(r.err.includes(`  - stage ${refused}`), `${refused} in:\n${r.err}`);
    }
    assert.doesNotMatch(r.err, /\n\s+at /, "no stack");
    assert.equal(existsSync(join(dir, "reached-lake")), false, "no run started: the lake was never touched");
  });

  it("exits 2 for a lake address that is not one, without a stack or the string's secrets", () => {
    const r = mallard(["status", "--config", "models.yml", "--lake", "AccountName=foo;AccountKey=c2VjcmV0"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: --lake: not a usable Azure Storage address or connection string/);
    assert.doesNotMatch(r.err, /c2VjcmV0|\n\s+at /);
  });

  it("exits 1 with one line when the lake folder cannot be written", () => {
    const r = mallard(["run", "--config", "models.yml", "--lake", "models.yml/lake"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: cannot write to the lake at .*models\.yml\/lake: .*ENOTDIR/);
    assert.doesNotMatch(r.err, /internal error|\n\s+at /);
  });

  it("exits 2 for a usage error", () => {
    const r = mallard(["run", "--concurrency", "zero"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--concurrency.*expected a whole number/);
  });

  it("exits 1 when a source is unreachable, names the stage, and never prints the password", () => {
    const r = mallard(["run", "--config", "models.yml", "--lake", "lake"]);
    assert.equal(r.code, 1);
    const all = r.out + r.err;
    assert.doesNotMatch(all, /hunter2/);
    assert.doesNotMatch(all, /\n\s+at /, "no stack trace");
    assert.match(r.out, /events\s+failed/);
    assert.match(r.out, /clean\s+skipped/);
    assert.match(r.out, /FAILED at stage "events"/);
  });

  it("status shows the failed run with its stage", () => {
    const r = mallard(["status", "--config", "models.yml", "--lake", "lake"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /failed .* 0 ok, 1 failed, 1 skipped {2}— events: /);
    assert.doesNotMatch(r.out, /hunter2/);
    assert.match(r.out, /events\s+full load each run/);
  });
});
