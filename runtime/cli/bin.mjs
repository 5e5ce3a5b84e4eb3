#!/usr/bin/env node
// The `mallard` command. Registers tsx so pipeline declarations and Mallard itself load as TypeScript.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv);
