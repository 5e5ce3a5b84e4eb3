// The engine's memoryLimit covers the whole process: DuckDB's own limit is set below it by a reserve.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Engine, queryRows } from "../../../runtime/engine/engine.ts";
import { duckdbMemoryLimit, parseMemorySize } from "../../../runtime/engine/memory.ts";

test("memory sizes read as DuckDB reads them", () => {
  assert.equal(parseMemorySize("1GB"), 1e9);
  assert.equal(parseMemorySize("512MiB"), 512 * 2 ** 20);
  assert.equal(parseMemorySize("1.5 gib"), 1.5 * 2 ** 30);
  assert.throws(() => parseMemorySize("lots"), /not a memory size: "lots"/);
});

test("DuckDB gets the engine's limit less a reserve for Node and allocator slack; a small limit is DuckDB's own", () => {
  assert.equal(duckdbMemoryLimit("1GB"), "555MiB");
  assert.equal(duckdbMemoryLimit("2GB"), "1270MiB");
  assert.equal(duckdbMemoryLimit("4GB"), "2701MiB");
  assert.equal(duckdbMemoryLimit("256MB"), "256MB");
});

test("an engine's DuckDB runs under the reduced limit", async () => {
  const engine = await Engine.create({ memoryLimit: "1GB", threads: 1 });
  try {
    const [{ limit }] = await engine.withConnection((con) => queryRows<{ limit: string }>(con, "SELECT current_setting('memory_limit') AS limit"));
    assert.equal(limit, "555.0 MiB");
  } finally {
    await engine.close();
  }
});
