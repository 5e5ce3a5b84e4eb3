#!/usr/bin/env node
// The `mallard` command. Installed, it runs compiled (dist/bin.js); from source, runtime/cli/bin.mjs
// (`npm run dev -- <args>`).
import { main } from "./main.ts";

// Output piped into a reader that stops early (`mallard plan | head`): stop quietly, as Unix tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv);
