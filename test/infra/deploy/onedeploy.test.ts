// The OneDeploy provider against a local HTTP server that plays a Flex Consumption SCM site: publish,
// status polling, the retry cases (403 while roles propagate, BlobUploadFailedException on a first
// deployment, 409), failures that must not be retried, and the provider serialized the way Pulumi
// serializes it, run in a fresh Node process.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { classifyPublish, oneDeploy, oneDeployProvider, type OneDeployInputs } from "../../../infra/deploy/onedeploy.ts";

interface Exchange {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Reply = { status: number; body?: string | object };
type Handler = (exchange: Exchange, index: number) => Reply;

/** A local SCM site: `publish` answers each POST in turn, `status` each deployment GET. */
async function scmSite(publish: Reply[] | Handler, status: Reply[] = [{ status: 200, body: { status: 4, complete: true } }]) {
  const exchanges: Exchange[] = [];
  let publishes = 0;
  let polls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const exchange = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      exchanges.push(exchange);
      let reply: Reply;
      if (exchange.url.startsWith("/api/publish")) {
        reply = typeof publish === "function" ? publish(exchange, publishes) : publish[Math.min(publishes, publish.length - 1)];
        publishes++;
      } else if (exchange.url.endsWith("/log")) {
        reply = { status: 200, body: "npm ERR! something in the package is wrong" };
      } else {
        reply = status[Math.min(polls, status.length - 1)];
        polls++;
      }
      res.statusCode = reply.status;
      res.end(typeof reply.body === "string" ? reply.body : reply.body === undefined ? "" : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, exchanges, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const dir = await mkdtemp(join(tmpdir(), "mallard-onedeploy-"));
const zipBytes = Buffer.from("PK\u0003\u0004 not really a zip, but bytes to upload");
const zipPath = join(dir, "bundle.zip");
await writeFile(zipPath, zipBytes);
const zipHash = createHash("sha256").update(zipBytes).digest("hex");

const inputs = (scmUrl: string, extra: Partial<OneDeployInputs> = {}): OneDeployInputs => ({
  scmUrl, zipPath, zipHash, token: "arm-token-123",
  retryForMs: 2_000, initialDelayMs: 10, maxDelayMs: 50, pollIntervalMs: 10, deploymentTimeoutMs: 5_000,
  ...extra,
});

test("publishes the zip with the Entra token, then follows the deployment until it succeeds", async () => {
  const site = await scmSite([{ status: 202, body: '"dep-1"' }], [
    { status: 404 },
    { status: 200, body: { id: "dep-1", status: 1, complete: false } },
    { status: 200, body: { id: "dep-1", status: 4, complete: true, status_text: "" } },
  ]);
  try {
    const outs = await oneDeploy(inputs(site.url));
    assert.equal(outs.deploymentId, "dep-1");
    assert.equal(outs.attempts, 1);
    assert.equal(outs.zipHash, zipHash);
    const [publish, ...polls] = site.exchanges;
    assert.equal(publish.method, "POST");
    assert.equal(publish.url, "/api/publish?RemoteBuild=false&Deployer=mallard");
    assert.equal(publish.headers.authorization, "Bearer arm-token-123");
    assert.equal(publish.headers["content-type"], "application/zip");
    assert.deepEqual(publish.body, zipBytes);
    assert.deepEqual(polls.map((p) => p.url), ["/api/deployments/dep-1", "/api/deployments/dep-1", "/api/deployments/dep-1"]);
    assert.ok(polls.every((p) => p.headers.authorization === "Bearer arm-token-123"));
  } finally {
    await site.close();
  }
});

test("retries while the SCM site answers 403 (role assignments propagating)", async () => {
  const site = await scmSite([{ status: 403, body: "Forbidden" }, { status: 403, body: "Forbidden" }, { status: 202, body: '"dep-2"' }]);
  try {
    const outs = await oneDeploy(inputs(site.url));
    assert.equal(outs.attempts, 3);
    assert.equal(site.exchanges.filter((e) => e.url.startsWith("/api/publish")).length, 3);
  } finally {
    await site.close();
  }
});

test("retries a first deployment that cannot write its package (BlobUploadFailedException), in a 400 or in a 200's body", async () => {
  const blobFailure = "BlobUploadFailedException: Failed to upload blob to storage account: Response status code does not indicate success: 403 (This request is not authorized to perform this operation using this permission.).";
  const site = await scmSite([
    { status: 400, body: blobFailure },
    { status: 200, body: { id: "dep-3", status: 3, complete: true, status_text: blobFailure } },
    // Flex answers 200 and puts the outcome in the body: a final status needs no polling.
    { status: 200, body: { id: "dep-4", status: 4, complete: true } },
  ]);
  try {
    const outs = await oneDeploy(inputs(site.url));
    assert.equal(outs.attempts, 3);
    assert.equal(outs.deploymentId, "dep-4");
    assert.equal(site.exchanges.length, 3, "no polling when the publish answer is final");
  } finally {
    await site.close();
  }
});

test("retries a deployment whose log shows the blob upload failure", async () => {
  let publishes = 0;
  const server = await scmSite(() => ({ status: 202, body: `"dep-${++publishes}"` }), [
    { status: 200, body: { status: 3, complete: true, status_text: "BlobUploadFailedException: 403" } },
    { status: 200, body: { status: 4, complete: true } },
  ]);
  try {
    const outs = await oneDeploy(inputs(server.url));
    assert.equal(outs.attempts, 2);
  } finally {
    await server.close();
  }
});

test("a deployment that fails for a reason a retry cannot fix fails at once, with its log", async () => {
  const site = await scmSite([{ status: 202, body: '"dep-9"' }], [{ status: 200, body: { id: "dep-9", status: 3, complete: true, status_text: "Deployment failed" } }]);
  try {
    await assert.rejects(oneDeploy(inputs(site.url)), /code deployment dep-9 failed: Deployment failed\nnpm ERR! something in the package is wrong/);
    assert.equal(site.exchanges.filter((e) => e.url.startsWith("/api/publish")).length, 1);
  } finally {
    await site.close();
  }
});

test("401 (a bad token) and other 4xx fail without retrying", async () => {
  const site = await scmSite([{ status: 401, body: "Unauthorized" }]);
  try {
    await assert.rejects(oneDeploy(inputs(site.url)), /publish answered 401: Unauthorized/);
    assert.equal(site.exchanges.length, 1);
  } finally {
    await site.close();
  }
});

test("gives up after the retry window, listing every attempt", async () => {
  const site = await scmSite([{ status: 403, body: "Forbidden" }]);
  try {
    await assert.rejects(oneDeploy(inputs(site.url, { retryForMs: 150 })), (error: Error) => {
      assert.match(error.message, /^code deployment gave up after \d+ attempts over 0 s:/);
      assert.match(error.message, /attempt 1: the SCM site refused the token \(403/);
      return true;
    });
  } finally {
    await site.close();
  }
});

test("refuses a zip whose hash is not the one planned", async () => {
  await assert.rejects(oneDeploy(inputs("http://127.0.0.1:9", { zipHash: "0".repeat(64) })), /the bundle changed after it was built/);
});

test("classifies publish answers", () => {
  assert.equal(classifyPublish(409, "").kind, "retry");
  assert.equal(classifyPublish(503, "").kind, "retry");
  assert.equal(classifyPublish(415, "Unsupported Media Type").kind, "fail");
  assert.deepEqual(classifyPublish(202, "abc-123"), { kind: "accepted", deploymentId: "abc-123", reason: "accepted" });
  assert.deepEqual(classifyPublish(200, ""), { kind: "accepted", reason: "accepted" });
});

test("diff: a new hash or SCM site redeploys; a new token alone does not", async () => {
  const olds = { scmUrl: "https://a.scm.azurewebsites.net", zipHash: "h1", deploymentId: "d", attempts: 1, deployedAt: "t" };
  const news = inputs("https://a.scm.azurewebsites.net", { zipHash: "h1", token: "another-token" });
  assert.equal((await oneDeployProvider.diff!("id", olds, news)).changes, false);
  assert.equal((await oneDeployProvider.diff!("id", olds, { ...news, zipHash: "h2" })).changes, true);
  assert.equal((await oneDeployProvider.diff!("id", olds, { ...news, scmUrl: "https://b.scm.azurewebsites.net" })).changes, true);
  const checked = await oneDeployProvider.check!(news, { ...news, token: "" });
  assert.deepEqual(checked.failures, [{ property: "token", reason: "token is required" }]);
});

test("the provider survives Pulumi's serialization and deploys from a fresh Node process", async () => {
  const serialized = await pulumi.runtime.serializeFunction(() => oneDeployProvider, { allowSecrets: false });
  assert.doesNotMatch(serialized.text, /arm-token/);
  const providerFile = join(dir, "provider.js");
  await writeFile(providerFile, serialized.text);
  const site = await scmSite([{ status: 403 }, { status: 202, body: '"dep-fresh"' }]);
  try {
    const script = `
      const load = require("require-from-string");
      const provider = load(require("fs").readFileSync(process.argv[1], "utf8")).handler();
      provider.create(JSON.parse(process.argv[2])).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, providerFile, JSON.stringify(inputs(site.url))], {
      cwd: process.cwd(),
    });
    const result = JSON.parse(stdout);
    assert.equal(result.outs.deploymentId, "dep-fresh");
    assert.equal(result.outs.attempts, 2);
    assert.equal(result.outs.token, undefined, "the token never reaches the state");
  } finally {
    await site.close();
  }
});
