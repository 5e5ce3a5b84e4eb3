#!/usr/bin/env node
// The `mallard` command. Installed, it runs compiled (dist/bin.js); from source, `npm run dev -- <args>`.
import { main } from "./main.ts";

process.exitCode = await main(process.argv);
