#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through node's test runner with tsx. Pass file or folder paths
// to run a subset: `npm test -- test/runtime/lake`.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DURATIONS_CACHE } from "./test-durations.mjs";

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

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
// Slowest files first, so two long files never end the run one after the other on one core while the
// other idles. Seconds per file from the last runs on this machine (scripts/test-durations.mjs), else
// from test/durations.json (a snapshot of them, committed so a fresh clone such as CI's has them; refresh
// it with `cp node_modules/.cache/mallard-test-durations.json test/durations.json` after a full run).
// A file with no figure yet (a new one) goes first: its cost is unknown.
const durations = readJson(DURATIONS_CACHE) ?? readJson("test/durations.json") ?? {};
const cost = (file) => durations[file] ?? Number.POSITIVE_INFINITY;
const ordered = files.map((file, i) => ({ file, i })).sort((a, b) => cost(b.file) - cost(a.file) || a.i - b.i).map((f) => f.file);
const result = spawnSync(
  process.execPath,
  [
    "--import", "tsx", "--test", "--test-concurrency=2",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=./scripts/test-durations.mjs", "--test-reporter-destination=/dev/null",
    ...ordered,
  ],
  { stdio: "inherit", env: { ...process.env, NODE_NO_WARNINGS: "1" } },
);
process.exit(result.status ?? 1);
