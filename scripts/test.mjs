#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through node's test runner with tsx. Pass file or folder paths
// to run a subset: `npm test -- test/runtime/lake`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith(".test.ts") ? [path] : [];
  return readdirSync(path).sort().flatMap((entry) => collect(join(path, entry)));
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error(`no test files under ${roots.join(", ")}`);
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { stdio: "inherit", env: { ...process.env, NODE_NO_WARNINGS: "1" } },
);
process.exit(result.status ?? 1);
