// One run of the Pulumi program under mocks (test/infra/harness.ts: pulumi.runtime.setMocks, no engine, no
// Azure), in its own process as `pulumi preview` would start it. Prints one JSON line: the program's time
// (from the call to the last resource registered) and CPU time, and the process's time from its start.
//
//   node --import tsx bench/lib/deploy-run.ts [--pipeline configs/pipeline.ts]

import { parseArgs } from "node:util";
import { recordProgram, SECRET_VALUES } from "../../test/infra/harness.ts";

const { values: args } = parseArgs({ options: { pipeline: { type: "string", default: "configs/pipeline.ts" } } });
const started = performance.now();
const cpu = process.cpuUsage();
const run = await recordProgram({ config: { pipeline: args.pipeline! }, secrets: { "shop-db-url": SECRET_VALUES["shop-db-url"] } });
const programSeconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ programSeconds, programCpuSeconds: (used.user + used.system) / 1e6, processSeconds: performance.now() / 1000, resources: run.resources.length }));
