// The Functions handlers, thin over the shared orchestration: each turns its trigger into one call of
// the driver, executor or poison handler, or reads a run record. They take the runtime from a provider,
// so tests invoke them with an InvocationContext exactly as the host does.

import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import { ConfigError, describeError, MallardError } from "../errors.ts";
import type { QueueRuntime } from "../orchestration/azure/context.ts";
import { leasedRun, startRun } from "../orchestration/azure/driver.ts";
import { handleTaskMessage } from "../orchestration/azure/executor.ts";
import { handlePoisonMessage } from "../orchestration/azure/poison.ts";
import { readRunReport } from "../report/write.ts";
import { tableLocations } from "../query/locations.ts";

export type RuntimeProvider = () => Promise<QueueRuntime>;

/** The queue trigger's metadata: the message id stays the same across redeliveries. */
function delivery(context: InvocationContext): { messageId: string; dequeueCount: number } {
  const meta = context.triggerMetadata ?? {};
  return { messageId: String(meta.id ?? context.invocationId), dequeueCount: Number(meta.dequeueCount ?? 1) };
}

export function createHandlers(runtime: RuntimeProvider) {
  return {
    /** Timer: start a run unless one is active. */
    async driver(timer: Timer, context: InvocationContext): Promise<void> {
      const rt = await runtime();
      const result = await startRun(rt, { trigger: timer.isPastDue ? "timer (past due)" : "timer" });
      context.log(result.started ? `started run ${result.runId}` : `no run started: ${result.reason}`);
    },

    /** Timer of a bronze table with its own schedule: a run of that table alone, under its own lease. */
    stageDriver(stage: string) {
      return async (_timer: Timer, context: InvocationContext): Promise<void> => {
        const rt = await runtime();
        const result = await startRun(rt, { trigger: `timer (${stage})`, select: [stage], lease: `${rt.pipeline.name}__${stage}` });
        context.log(result.started ? `started run ${result.runId} of ${stage}` : `no run of ${stage} started: ${result.reason}`);
      };
    },

    /** Task queue: run one task. Throwing makes the host redeliver (and poison after maxDequeueCount). */
    async executor(queueEntry: unknown, context: InvocationContext): Promise<void> {
      const rt = await runtime();
      const outcome = await handleTaskMessage(rt, queueEntry, delivery(context));
      // The instance may be frozen right after the invocation: send this task's telemetry now.
      await rt.monitor.flush();
      context.log(outcome.action === "ran" ? `task ${outcome.record.task} ${outcome.record.status}` : `ignored: ${outcome.reason}`);
    },

    /** Poison queue: the task failed for good; mark it and its run. */
    async poison(queueEntry: unknown, context: InvocationContext): Promise<void> {
      const rt = await runtime();
      const result = await handlePoisonMessage(rt, queueEntry, delivery(context));
      await rt.monitor.flush();
      context.log(`poison message: ${result}`);
    },

    /**
     * HTTP `runs/{runId?}`: POST starts a run (body or query: `select`, `fullRefresh`), 202 with its id or
     * 409 while another is active; GET with an id returns that run's record, without one the latest runs
     * and every table's Delta address and version (what Fabric, Synapse, Databricks or Power BI open).
     */
    async runs(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
      try {
        const rt = await runtime();
        const runId = request.params.runId;
        if (request.method === "POST") {
          const body = parseBody(await request.text());
          const select = body.select ?? request.query.get("select")?.split(",");
          const fullRefresh = body.fullRefresh ?? request.query.get("fullRefresh") === "true";
          const result = await startRun(rt, { trigger: "http", select: typeof select === "string" ? [select] : select, fullRefresh });
          return result.started
            ? { status: 202, jsonBody: { runId: result.runId, queued: result.queued, status: `/api/runs/${result.runId}` } }
            : { status: 409, jsonBody: { error: result.reason, activeRunId: result.activeRunId } };
        }
        if (runId) {
          const record = await rt.records.get(rt.pipeline.name, runId);
          if (!record) return { status: 404, jsonBody: { error: `no run ${runId} of ${rt.pipeline.name}` } };
          // A finished run's report is written when it closes (runtime/orchestration/azure/records.ts).
          return { status: 200, jsonBody: record.status === "running" ? record : { ...record, report: `/api/runs/${runId}/report` } };
        }
        const limit = Math.min(Number(request.query.get("limit") ?? 10) || 10, 100);
        const runs = await rt.records.latest(rt.pipeline.name, limit);
        const [leased, queue, tables] = await Promise.all([leasedRun(rt.lake, rt.pipeline.name), rt.queue.depth(), tableLocations(rt.lake, rt.pipeline)]);
        return { status: 200, jsonBody: { pipeline: rt.pipeline.name, leasedRun: leased, queue, runs, tables } };
      } catch (error) {
        // A user-caused problem is a 400 with its message; anything else a 500 without internals.
        context.error(`runs: ${describeError(error)}`);
        return error instanceof MallardError
          ? { status: 400, jsonBody: { error: describeError(error) } }
          : { status: 500, jsonBody: { error: "internal error; see the function's logs", invocationId: context.invocationId } };
      }
    },

    /** HTTP GET `runs/{runId}/report`: the run's HTML report, as the executor wrote it into the lake. */
    async runReport(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
      try {
        const rt = await runtime();
        const runId = request.params.runId ?? "";
        const page = await readRunReport(rt.lake, rt.pipeline.name, runId);
        if (page !== undefined) return { status: 200, headers: REPORT_HEADERS, body: page };
        const record = await rt.records.get(rt.pipeline.name, runId);
        return {
          status: 404,
          jsonBody: { error: record ? `run ${runId} has no report yet (${record.status}; written when the run finishes)` : `no run ${runId} of ${rt.pipeline.name}` },
        };
      } catch (error) {
        context.error(`runs report: ${describeError(error)}`);
        return { status: 500, jsonBody: { error: "internal error; see the function's logs", invocationId: context.invocationId } };
      }
    },
  };
}

/** The run report page's own headers: the page allows no requests and runs only its own script. */
const REPORT_HEADERS = { "content-type": "text/html; charset=utf-8", "x-content-type-options": "nosniff", "cache-control": "private, max-age=300" };

function parseBody(text: string): { select?: string[] | string; fullRefresh?: boolean } {
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as { select?: string[] | string; fullRefresh?: boolean };
  } catch {
    throw new ConfigError([`runs: the request body is not JSON (expected {"select": ["stage"], "fullRefresh": false})`]);
  }
}

export type Handlers = ReturnType<typeof createHandlers>;
