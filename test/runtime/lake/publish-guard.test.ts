// The one decision every publish makes: by the inputs' versions, then by run; never for an inactive task.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mayPublish } from "../../../runtime/lake/publish-guard.ts";

const current = { runId: "20260101T100000Z-b", inputs: { "bronze/s/a": 4, "silver/m": 7 } };
const next = (inputs: Record<string, number>, runId = "20260101T090000Z-a", active = true) => mayPublish(current, { runId, inputs, active });

describe("mayPublish", () => {
  it("goes ahead on an empty table", () => {
    assert.deepEqual(mayPublish(undefined, { runId: "r", inputs: {}, active: true }), { go: true });
  });

  it("goes ahead when an input is newer, even from an earlier run", () => {
    assert.deepEqual(next({ "bronze/s/a": 5, "silver/m": 7 }), { go: true });
  });

  it("steps aside when any input is older, even when another is newer", () => {
    const verdict = next({ "bronze/s/a": 5, "silver/m": 6 }, "20260101T110000Z-c");
    assert.equal(verdict.go, false);
    assert.deepEqual(verdict.go ? undefined : [verdict.outcome, verdict.reason], ["stale", "read silver/m at version 6; the current version (run 20260101T100000Z-b) was computed from version 7"]);
  });

  it("on equal inputs lets the later run (or the same run again) win, and an earlier run step aside", () => {
    assert.deepEqual(next({ "bronze/s/a": 4, "silver/m": 7 }, "20260101T110000Z-c"), { go: true });
    assert.deepEqual(next({ "bronze/s/a": 4, "silver/m": 7 }, current.runId), { go: true });
    assert.equal(next({ "bronze/s/a": 4, "silver/m": 7 }).go, false);
  });

  it("orders by run when the inputs have nothing in common (a version written before inputs were recorded)", () => {
    assert.equal(mayPublish({ runId: "20260101T100000Z-b", inputs: {} }, { runId: "20260101T090000Z-a", inputs: { x: 1 }, active: true }).go, false);
    assert.equal(mayPublish({ runId: "20260101T100000Z-b", inputs: {} }, { runId: "20260101T110000Z-c", inputs: { x: 1 }, active: true }).go, true);
  });

  it("never lets a task that no longer holds its run publish, whatever its inputs", () => {
    const verdict = next({ "bronze/s/a": 9, "silver/m": 9 }, "20260101T110000Z-c", false);
    assert.deepEqual(verdict.go ? undefined : verdict.outcome, "abandoned");
  });
});
