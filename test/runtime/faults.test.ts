// Fault points: every one declared in CRASH_POINTS, hit by its filled-in name or its bare pattern; a
// process dies at a crash point and waits at a delay point.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CRASH_POINTS, crashPointName } from "../../runtime/faults.ts";

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

function child(point: string, env: Record<string, string>) {
  const script = `import { faultPoint } from "./runtime/faults.ts"; const t = Date.now(); await faultPoint(${JSON.stringify(point)}, { task: "g" }); console.log(Date.now() - t);`;
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8" });
}

describe("fault points", () => {
  it("fills a point's placeholders", () => {
    assert.equal(crashPointName("bronze:{stage}:after-upload:{chunk}", { stage: "orders", chunk: 3 }), "bronze:orders:after-upload:3");
    assert.equal(crashPointName("driver:after-lease"), "driver:after-lease");
  });

  it("every point the runtime reaches is declared (the type enforces it), and every declared point is reached", async () => {
    const code = (await Promise.all((await sources("runtime")).map((f) => readFile(f, "utf8")))).join("\n");
    for (const point of Object.keys(CRASH_POINTS)) assert.ok(code.includes(`"${point}"`) && new RegExp(`(crashPoint|faultPoint)\\("${point.replace(/[{}]/g, "\\$&")}"`).test(code), `${point} is used`);
  });

  it("dies at a crash point by its full name or its pattern, and not at another instance", () => {
    assert.equal(child("executor:{task}:after-result", { MALLARD_CRASH_AT: "executor:g:after-result" }).signal, "SIGKILL");
    assert.equal(child("executor:{task}:after-result", { MALLARD_CRASH_AT: "executor:{task}:after-result" }).signal, "SIGKILL");
    const other = child("executor:{task}:after-result", { MALLARD_CRASH_AT: "executor:m:after-result" });
    assert.equal(other.status, 0, other.stderr);
  });

  it("waits at a delay point", () => {
    const r = child("executor:{task}:after-result", { MALLARD_DELAY_AT: "executor:g:after-result", MALLARD_DELAY_MS: "300" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout) >= 290, `waited ${r.stdout} ms`);
  });
});
