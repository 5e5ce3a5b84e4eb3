// The production authentication path against real protocol endpoints: Azurite over HTTPS with OAuth
// enforced, and a managed identity endpoint as App Service and Functions provide it (IDENTITY_ENDPOINT +
// IDENTITY_HEADER). A child process with only the app settings Pulumi writes (account, blob endpoint,
// queue service URI, no key) reads and writes the lake and the queue through DefaultAzureCredential.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Azurite, startAzurite } from "../../helpers/azurite.ts";

/** An unsigned token with the claims Azurite's basic OAuth checks (issuer, audience, lifetime). */
function storageToken(): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({
    aud: "https://storage.azure.com", iss: "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
    iat: now - 60, nbf: now - 60, exp: now + 3600, oid: "00000000-0000-0000-0000-0000000000aa", tid: "00000000-0000-0000-0000-000000000001",
  })}.c2ln`;
}

describe("managed identity to the lake and the queue (Azurite with OAuth over HTTPS)", () => {
  let dir: string;
  let azurite: Azurite;
  let msi: Server;
  const tokenRequests: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mallard-identity-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    azurite = await startAzurite({ tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") }, oauth: true });
    msi = createServer((req, res) => {
      tokenRequests.push(`${req.url} ${req.headers["x-identity-header"]}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: storageToken(), expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: "https://storage.azure.com", token_type: "Bearer" }));
    });
    await new Promise<void>((resolve) => msi.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    msi.closeAllConnections();
    await new Promise((resolve) => msi.close(resolve));
    await azurite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads and writes with only the account settings and the managed identity", async () => {
    let out = "";
    let err = "";
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "identity-probe.ts")], {
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
        NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
        IDENTITY_ENDPOINT: `http://127.0.0.1:${(msi.address() as AddressInfo).port}/msi/token`,
        IDENTITY_HEADER: "functions-identity-header",
        MALLARD_LAKE_ACCOUNT: "devstoreaccount1",
        MALLARD_LAKE_BLOB_ENDPOINT: azurite.blobEndpoint,
        MALLARD_STORAGE__queueServiceUri: azurite.queueEndpoint,
        MALLARD_STORAGE__credential: "managedidentity",
        MALLARD_TASK_QUEUE: "identity-tasks",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), {
      connection: "identity", anonymousRefused: true, createdWithEtag: true, secondCreateRefused: true, fileBack: "parquet bytes", queued: "t",
    });
    assert.ok(tokenRequests.some((r) => r.includes("storage.azure.com") && r.endsWith("functions-identity-header")), tokenRequests.join("\n"));
  });
});
