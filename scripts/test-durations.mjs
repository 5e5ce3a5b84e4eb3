// A node:test reporter beside `spec`: adds up each test file's top-level test and suite durations and, when
// the run ends, merges them into node_modules/.cache/mallard-test-durations.json (files this run did not
// run keep their last figure). scripts/test.mjs starts the slowest files first from it. Hooks outside
// any test (a before() starting Azurite) are not counted: the figure orders files, it times nothing.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

export const DURATIONS_CACHE = join(process.cwd(), "node_modules/.cache/mallard-test-durations.json");

export default async function* durations(source) {
  const seconds = {};
  for await (const event of source) {
    if ((event.type === "test:pass" || event.type === "test:fail") && event.data.nesting === 0 && event.data.file) {
      const file = relative(process.cwd(), event.data.file);
      seconds[file] = (seconds[file] ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000;
    }
  }
  const known = await readFile(DURATIONS_CACHE, "utf8").then(JSON.parse, () => ({}));
  for (const [file, s] of Object.entries(seconds)) known[file] = Math.round(s * 10) / 10;
  await mkdir(dirname(DURATIONS_CACHE), { recursive: true });
  await writeFile(DURATIONS_CACHE, `${JSON.stringify(Object.fromEntries(Object.entries(known).sort()), null, 2)}\n`);
}
