// The dispatch transitions as pure functions: roots queued, fan-in only when every input succeeded,
// failure skips everything downstream, and the run's status follows its tasks.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { abandon, claim, fail, holdsClaim, newDispatch, requeue, succeed } from "../../../../runtime/orchestration/azure/dispatch-state.ts";

const tasks = [
  { id: "a", stage: "a", dependsOn: [] },
  { id: "b", stage: "b", dependsOn: [] },
  { id: "m", stage: "m", dependsOn: ["a", "b"] },
  { id: "g", stage: "g", dependsOn: ["m"] },
  { id: "h", stage: "h", dependsOn: ["b"] },
];
const now = new Date("2026-11-24T12:00:00Z");
const statuses = (s: ReturnType<typeof newDispatch>) => Object.fromEntries(Object.values(s.tasks).map((t) => [t.task.id, t.status]));

describe("dispatch transitions", () => {
  it("queues roots, and a dependent only when its last input succeeds", () => {
    const s0 = newDispatch("r", "p", tasks, { fullRefresh: false }, now);
    assert.deepEqual(statuses(s0), { a: "queued", b: "queued", m: "waiting", g: "waiting", h: "waiting" });
    const s1 = succeed(s0, "a", now);
    assert.deepEqual(s1.queued, []);
    const s2 = succeed(s1.next, "b", now);
    assert.deepEqual(s2.queued.sort(), ["h", "m"]);
    // The same success recorded again (a stale view) queues nothing new: m is no longer waiting.
    assert.deepEqual(succeed(s2.next, "a", now).queued, []);
  });

  it("fails a task, skips its downstream, and ends the run when nothing is left", () => {
    let s = newDispatch("r", "p", tasks, { fullRefresh: false }, now);
    s = succeed(s, "b", now).next;
    s = fail(s, "a", "boom", now);
    assert.deepEqual(statuses(s), { a: "failed", b: "succeeded", m: "skipped", g: "skipped", h: "queued" });
    assert.equal(s.status, "running");
    assert.equal(s.failedTask, "a");
    s = succeed(s, "h", now).next;
    assert.equal(s.status, "failed");
  });

  it("requeues a retry at the next attempt", () => {
    const s = requeue(newDispatch("r", "p", tasks, { fullRefresh: false }, now), "a", "unreachable", now);
    assert.equal(s.tasks.a.status, "queued");
    assert.equal(s.tasks.a.attempt, 2);
    assert.equal(s.tasks.a.error, "unreachable");
  });

  it("abandons every unfinished task with the run; finished ones keep their status", () => {
    let s = newDispatch("r", "p", tasks, { fullRefresh: false }, now);
    s = succeed(s, "a", now).next;
    s = claim(s, "b", { messageId: "mb", dequeueCount: 1 }, "t1", now);
    s = abandon(s, "lease expired", now);
    assert.equal(s.status, "abandoned");
    assert.equal(s.abandonedBecause, "lease expired");
    assert.deepEqual(statuses(s), { a: "succeeded", b: "abandoned", m: "abandoned", g: "abandoned", h: "abandoned" });
    assert.equal(s.tasks.b.claim, undefined);
  });

  it("a claim holds its task only under its own token, and only while the run runs", () => {
    let s = newDispatch("r", "p", tasks, { fullRefresh: false }, now);
    s = claim(s, "a", { messageId: "ma", dequeueCount: 1 }, "first", now);
    assert.ok(holdsClaim(s, "a", "first"));
    // The same message redelivered (its executor seemed dead) takes over under a new token.
    s = claim(s, "a", { messageId: "ma", dequeueCount: 2 }, "second", now);
    assert.equal(holdsClaim(s, "a", "first"), false);
    assert.ok(holdsClaim(s, "a", "second"));
    assert.equal(s.tasks.a.deliveries, 2);
    assert.equal(holdsClaim(abandon(s, "gone", now), "a", "second"), false);
  });

  it("keeps a task's result with its success or failure, for the run record", () => {
    const result = { task: "a", stage: "a", kind: "bronze.table", status: "succeeded" as const, rowsOut: 1150 };
    const s = succeed(newDispatch("r", "p", tasks, { fullRefresh: false }, now), "a", now, result).next;
    assert.deepEqual(s.tasks.a.result, result);
  });
});

