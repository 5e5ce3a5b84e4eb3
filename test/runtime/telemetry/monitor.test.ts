// The monitor: structured lines with run and task ids, metrics per task, the run-failed event; and the
// Application Insights sink against a local ingestion endpoint that receives what the SDK really sends.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import type { RunRecord, TaskRecord } from "../../../runtime/state/run-records.ts";
import { monitorFromSettings } from "../../../runtime/telemetry/app-insights.ts";
import { type LogLine, Monitor, TELEMETRY, type TelemetrySink } from "../../../runtime/telemetry/monitor.ts";

const task: TaskRecord = {
  task: "orders", stage: "orders", kind: "bronze.table", status: "succeeded", attempt: 1,
  rowsIn: 120, rowsOut: 120, bytes: 4096, durationMs: 850,
};
const failedRun: RunRecord = {
  runId: "20261124T120000Z-abc123", pipeline: "shop", status: "failed", trigger: "timer",
  startedAt: "2026-11-24T12:00:00.000Z", endedAt: "2026-11-24T12:00:05.000Z",
  tasks: { orders: task, orders_clean: { task: "orders_clean", stage: "orders_clean", kind: "silver.model", status: "failed", error: "check failed" } },
  error: { stage: "orders_clean", message: "check not_null(id) failed; source postgres://app:hunter2@db/shop" },
};

class Recording implements TelemetrySink {
  readonly events: { name: string; properties: Record<string, string>; measurements?: Record<string, number> }[] = [];
  readonly metrics: { name: string; value: number; properties: Record<string, string> }[] = [];
  readonly exceptions: Error[] = [];
  event(name: string, properties: Record<string, string>, measurements?: Record<string, number>) {
    this.events.push({ name, properties, measurements });
  }
  metric(name: string, value: number, properties: Record<string, string>) {
    this.metrics.push({ name, value, properties });
  }
  exception(error: Error) {
    this.exceptions.push(error);
  }
  async flush() {}
}

describe("Monitor", () => {
  it("writes one structured line per event, with the run and task ids, and redacts credentials", () => {
    const lines: LogLine[] = [];
    const monitor = new Monitor({ sink: (l) => lines.push(l) }).with({ runId: "r1", pipeline: "shop" });
    monitor.with({ task: "orders", attempt: 2 }).info("extracting from postgres://app:hunter2@db/shop");
    monitor.debug("not written at info level");
    assert.equal(lines.length, 1);
    assert.deepEqual({ ...lines[0], ts: undefined }, {
      ts: undefined, level: "info", msg: "extracting from postgres://app:***@db/shop", runId: "r1", pipeline: "shop", task: "orders", attempt: 2,
    });
  });

  it("sends per-task metrics and events, and a run-failed event with an exception", () => {
    const lines: LogLine[] = [];
    const sink = new Recording();
    const monitor = new Monitor({ sink: (l) => lines.push(l), telemetry: sink }).with({ runId: failedRun.runId, pipeline: "shop" });
    monitor.taskFinished(task);
    assert.deepEqual(sink.metrics.map((m) => [m.name, m.value]), [
      [TELEMETRY.metrics.rowsIn, 120], [TELEMETRY.metrics.rowsOut, 120], [TELEMETRY.metrics.bytes, 4096], [TELEMETRY.metrics.durationMs, 850],
    ]);
    assert.equal(sink.metrics[0].properties.runId, failedRun.runId);
    assert.equal(lines[0].rowsOut, 120);
    monitor.runFinished(failedRun);
    const failed = sink.events.find((e) => e.name === TELEMETRY.runFailed);
    assert.equal(failed?.properties.stage, "orders_clean");
    assert.doesNotMatch(JSON.stringify([sink.events, lines]), /hunter2/);
    assert.equal(failed?.measurements?.failed, 1);
    assert.equal(sink.exceptions.length, 1);
    assert.equal(lines.at(-1)?.level, "error");
  });
});

describe("Monitor: reconciliation", () => {
  it("sends a reconciled event for every result and a drift event (with a warn line) only for drift or an error", () => {
    const lines: LogLine[] = [];
    const sink = new Recording();
    const monitor = new Monitor({ sink: (l) => lines.push(l), telemetry: sink }).with({ runId: "r1", pipeline: "shop" });
    const base = { at: "2026-12-02T12:00:00.000Z", durationMs: 40, columns: ["id", "updated_at"], method: "pushdown" as const };
    monitor.taskFinished({ ...task, reconciliation: { ...base, status: "inSync", source: { rows: 120, checksum: "9" }, lake: { rows: 120, checksum: "9" } } });
    assert.deepEqual(sink.events.map((e) => e.name), [TELEMETRY.reconciled, TELEMETRY.taskFinished]);
    assert.equal(lines.length, 1);
    monitor.taskFinished({
      ...task,
      reconciliation: { ...base, status: "drift", source: { rows: 119, checksum: "8" }, lake: { rows: 121, checksum: "9" }, missing: 1, changed: 0, deleted: 3, pending: 0 },
    });
    const drift = sink.events.find((e) => e.name === TELEMETRY.reconcileDrift);
    assert.deepEqual(drift?.properties, { runId: "r1", pipeline: "shop", task: "orders", stage: "orders", status: "drift" });
    assert.deepEqual(drift?.measurements, { sourceRows: 119, lakeRows: 121, missing: 1, changed: 0, deleted: 3, pending: 0, durationMs: 40 });
    assert.deepEqual([lines.at(-1)?.level, lines.at(-1)?.msg, lines.at(-1)?.deleted], ["warn", "task orders: reconciliation drift", 3]);
  });
});

describe("Application Insights sink", () => {
  let server: Server;
  let dir: string;
  const envelopes: { name: string; data: { baseType: string; baseData: Record<string, unknown> } }[] = [];
  const authorizations: (string | undefined)[] = [];
  let msi: HttpServer;
  const msiRequests: string[] = [];
  before(async () => {
    // The App Service / Functions managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER).
    msi = createHttpServer((req, res) => {
      msiRequests.push(`${req.url} header=${req.headers["x-identity-header"]}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({
        access_token: "msi-token-for-monitor", expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: "https://monitor.azure.com", token_type: "Bearer",
      }));
    });
    await new Promise<void>((resolve) => msi.listen(0, "127.0.0.1", resolve));
    // The exporter insists on HTTPS: a self-signed certificate for 127.0.0.1, trusted by the child only.
    dir = await mkdtemp(join(tmpdir(), "mallard-ai-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    server = createServer({ key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        if (req.url?.includes("/track")) {
          authorizations.push(req.headers.authorization);
          envelopes.push(...(JSON.parse(body.toString()) as typeof envelopes));
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    msi.closeAllConnections();
    await new Promise((resolve) => msi.close(resolve));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("is off without a connection string", async () => {
    const monitor = await monitorFromSettings({}, { sink: () => undefined });
    assert.equal(monitor.telemetry, undefined);
  });

  it("delivers the run-failed event, an exception and task metrics to the ingestion endpoint", async () => {
    const port = (server.address() as AddressInfo).port;
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "app-insights-probe.ts"), JSON.stringify([task, failedRun])], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-00000000abcd;IngestionEndpoint=https://127.0.0.1:${port}/`,
      },
      stdio: "inherit",
    });
    assert.equal(await new Promise((resolve) => child.once("exit", resolve)), 0);
    const events = envelopes.filter((e) => e.data.baseType === "EventData").map((e) => e.data.baseData as { name: string; properties: Record<string, string> });
    const failed = events.find((e) => e.name === TELEMETRY.runFailed);
    assert.ok(failed, `events received: ${events.map((e) => e.name).join(", ")}`);
    assert.equal(failed.properties.runId, failedRun.runId);
    assert.equal(failed.properties.stage, "orders_clean");
    assert.ok(events.some((e) => e.name === TELEMETRY.taskFinished));
    assert.ok(envelopes.some((e) => e.data.baseType === "ExceptionData"));
    assert.match(JSON.stringify(envelopes.filter((e) => e.data.baseType === "MetricData")), /mallard\.task\.rows_out/);
    assert.doesNotMatch(JSON.stringify(envelopes), /hunter2/);
  });

  it("authenticates ingestion with the app's managed identity when APPLICATIONINSIGHTS_AUTHENTICATION_STRING says AAD", async () => {
    envelopes.length = 0;
    authorizations.length = 0;
    const port = (server.address() as AddressInfo).port;
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "app-insights-probe.ts"), JSON.stringify([task, failedRun])], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-00000000abcd;IngestionEndpoint=https://127.0.0.1:${port}/`,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD",
        IDENTITY_ENDPOINT: `http://127.0.0.1:${(msi.address() as AddressInfo).port}/msi/token`,
        IDENTITY_HEADER: "test-identity-header",
      },
      stdio: "inherit",
    });
    assert.equal(await new Promise((resolve) => child.once("exit", resolve)), 0);
    assert.ok(msiRequests.some((r) => r.includes("monitor.azure.com") && r.includes("header=test-identity-header")), msiRequests.join("\n"));
    assert.ok(authorizations.length > 0 && authorizations.every((a) => a === "Bearer msi-token-for-monitor"), String(authorizations));
    assert.ok(envelopes.some((e) => (e.data.baseData as { name?: string }).name === TELEMETRY.runFailed));
  });
});
