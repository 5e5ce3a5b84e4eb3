// The `mallard` command as the tests run it: from source (runtime/cli/bin.mjs registers tsx), from any
// working folder. dist/bin.js is built from the same entry; test/package.test.ts runs the built, packed one.
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../runtime/cli/bin.mjs", import.meta.url));

/** Node arguments that run `mallard <args>`. */
export function mallardArgs(args: readonly string[]): string[] {
  return [BIN, ...args];
}
