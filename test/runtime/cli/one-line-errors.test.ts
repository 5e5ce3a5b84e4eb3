// Expected failures print one line on every path of `mallard run`: a DuckDB error names the stage and the
// column (no `LINE 1:` excerpt and caret), and on the queue path a wrong storage key or a bad queue name
// is an error, not "internal error (a bug in Mallard…)" with the SDK's stack. Real Azurite, real DuckDB.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Azurite, AZURITE_KEY, startAzurite } from "../../helpers/azurite.ts";
import { mallardArgs } from "../../helpers/cli.ts";

let dir: string;
let azurite: Azurite;
let wrongKey: string;
const WRONG = Buffer.from("not-the-account-key-not-the-key!").toString("base64");

function mallard(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, mallardArgs(args), { cwd: dir });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

function assertOneLine(text: string, pattern: RegExp): void {
  assert.match(text, pattern);
  assert.equal(text.trimEnd().split("\n").length, 1, `one line, got:\n${text}`);
  assert.doesNotMatch(text, /internal error|\n\s+at |LINE \d+:|RequestId/);
  assert.ok(!text.includes(WRONG) && !text.includes(AZURITE_KEY), "no key printed");
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-one-line-"));
  azurite = await startAzurite();
  wrongKey = azurite.connectionString.replace(AZURITE_KEY, WRONG);
  await writeFile(join(dir, "typo.yml"), `
name: typo
schedule: "0 0 * * * *"
sources: {}
stages:
  - gold: names
    from: {}
    sql: select nmae from (select 'a' as name)
`);
});
after(async () => {
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("one-line errors of mallard run", { timeout: 300_000 }, () => {
  it("a DuckDB error names the stage and the column, on one line (local)", async () => {
    const r = await mallard(["run", "-c", "typo.yml", "--lake", "lake"]);
    assert.equal(r.code, 1, r.err);
    const failed = r.out.split("\n").find((l) => l.includes("FAILED")) ?? "";
    assertOneLine(failed, /FAILED at stage "names": stage "names": sql: Binder Error: Referenced column "nmae" not found in FROM clause! Candidate bindings: "name"/);
  });

  it("a DuckDB error names the stage and the column, on one line (--queue)", async () => {
    const r = await mallard(["run", "-c", "typo.yml", "--lake", azurite.connectionString, "--queue", "--queue-name", "typo-tasks"]);
    assert.equal(r.code, 1, r.err);
    const failed = r.out.split("\n").find((l) => l.includes("FAILED")) ?? "";
    assertOneLine(failed, /FAILED at stage "names": stage "names": sql: Binder Error: Referenced column "nmae" not found/);
  });

  it("a wrong storage key is one line, locally and through the queue", async () => {
    const local = await mallard(["run", "-c", "typo.yml", "--lake", wrongKey]);
    assert.equal(local.code, 1);
    assertOneLine(local.err, /^error: cannot write to the lake at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1: Server failed to authenticate the request\./);
    const queued = await mallard(["run", "-c", "typo.yml", "--lake", wrongKey, "--queue"]);
    assert.equal(queued.code, 1);
    assertOneLine(queued.err, /^error: cannot (create the task queue "mallard-tasks(-poison)?" at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/mallard-tasks(-poison)?|read the lake at \S+): Server failed to authenticate the request\..* \(HTTP 403 AuthenticationFailed\)|^error: cannot read the lake/);
  });

  it("a bad queue name is one line naming the name and the rule (exit 2)", async () => {
    const r = await mallard(["run", "-c", "typo.yml", "--lake", azurite.connectionString, "--queue", "--queue-name", "Bad_Name!"]);
    assert.equal(r.code, 2);
    assertOneLine(r.err, /^error: queue name "Bad_Name!": not an Azure Storage queue name \(3 to 56 lowercase letters, digits and single hyphens/);
  });
});
