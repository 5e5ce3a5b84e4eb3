// Run ids order runs: `RunRecords.latest` and the publish guard's tie-break go by them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { newRunId, RunRecords } from "../../../runtime/state/run-records.ts";
import { scratchLake } from "../../helpers/lake.ts";

test("run ids sort by start time to the millisecond, whatever their random suffix", () => {
  const starts = ["2026-12-02T14:51:56.009Z", "2026-12-02T14:51:56.010Z", "2026-12-02T14:51:56.900Z", "2026-12-02T14:51:57.000Z"];
  for (let i = 0; i < 200; i++) {
    const ids = starts.map((start) => newRunId(new Date(start)));
    assert.deepEqual([...ids].sort(), ids);
  }
  assert.match(newRunId(new Date("2026-12-02T14:51:56.123Z")), /^20261202T145156123Z-[0-9a-z]+$/);
});

test("latest() gives the later of two runs started in the same second first (a crashed run and its recovery)", async () => {
  const scratch = await scratchLake();
  try {
    const records = new RunRecords(scratch.lake);
    const record = (runId: string, status: "abandoned" | "succeeded", startedAt: string) =>
      ({ runId, pipeline: "shop", status, trigger: "cli", startedAt, tasks: {} }) as const;
    // Suffixes chosen so that the earlier run's would sort last if the second were all the id held.
    const crashed = `${newRunId(new Date("2026-12-02T14:51:56.100Z")).split("-")[0]}-zzzzzz`;
    const recovery = `${newRunId(new Date("2026-12-02T14:51:56.800Z")).split("-")[0]}-000000`;
    await records.create(record(crashed, "abandoned", "2026-12-02T14:51:56.100Z"));
    await records.create(record(recovery, "succeeded", "2026-12-02T14:51:56.800Z"));
    const [last] = await records.latest("shop", 1);
    assert.equal(last.runId, recovery);
    assert.equal(last.status, "succeeded");
  } finally {
    await scratch.dispose();
  }
});
