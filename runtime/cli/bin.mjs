#!/usr/bin/env node
// `mallard` from the TypeScript sources, without a build: what tests and `npm run dev` run. Registers tsx,
// then runs the entry that dist/bin.js (the installed command) is built from.
import { register } from "tsx/esm/api";

register();
await import("./bin.ts");
