// Run by monitor.test.ts in a child process (so NODE_EXTRA_CA_CERTS can trust the test's ingestion
// endpoint): reports one task and one failed run through Application Insights, flushes, exits.

import type { RunRecord, TaskRecord } from "../../../runtime/state/run-records.ts";
import { monitorFromSettings } from "../../../runtime/telemetry/app-insights.ts";

const [task, run] = JSON.parse(process.argv[2]) as [TaskRecord, RunRecord];
const monitor = (await monitorFromSettings(process.env, { sink: () => undefined })).with({ runId: run.runId, pipeline: run.pipeline });
monitor.taskFinished(task);
monitor.runFinished(run);
await monitor.flush();
process.exit(0);
