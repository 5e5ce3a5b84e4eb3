// KeyVaultSecretProvider against a local HTTPS server that speaks the Key Vault secrets REST protocol
// (GET /secrets/<name>/, 401 + WWW-Authenticate challenge first, bearer token after). The vault URL is a
// real-looking *.vault.azure.net name resolved to 127.0.0.1 by the test's agent, so TLS verification (a
// self-signed certificate for that name) and the SDK's challenge resource check both stay on.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo, LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { isSecretRef } from "../../../runtime/declare/secret.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import { KeyVaultSecretProvider, keyVaultSecretName } from "../../../runtime/secrets/key-vault.ts";
import { defaultSecretChain } from "../../../runtime/secrets/default-chain.ts";

const HOST = "mallardtest.vault.azure.net";
const TOKEN = "test-access-token";
const SECRETS: Record<string, { value: string; enabled?: boolean }> = {
  "shop-db-url": { value: "postgres://app:s3cr3t-pw@db.example:5432/shop" },
  "disabled-one": { value: "nope", enabled: false },
};

describe("KeyVaultSecretProvider", () => {
  let server: Server;
  let dir: string;
  let agent: Agent;
  let vaultUrl: string;
  const requests: { path: string; auth?: string }[] = [];
  const scopes: string[] = [];
  let failNext = 0;

  const credential: TokenCredential = {
    async getToken(requested): Promise<AccessToken> {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mallard-kv-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST}`,
    ], { stdio: "ignore" });
    const cert = await readFile(join(dir, "cert.pem"));
    server = createServer({ key: await readFile(join(dir, "key.pem")), cert }, (req, res) => {
      const url = new URL(req.url!, `https://${HOST}`);
      requests.push({ path: url.pathname, auth: req.headers.authorization });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return send(401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }, {
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"`,
        });
      }
      if (!url.searchParams.get("api-version")) return send(400, { error: { code: "BadParameter", message: "api-version" } });
      if (failNext > 0) {
        failNext--;
        return send(403, { error: { code: "Forbidden", message: "caller is not authorized" } });
      }
      const match = /^\/secrets\/([A-Za-z0-9-]+)\/?$/.exec(url.pathname);
      const secret = match && SECRETS[match[1]];
      if (!secret) return send(404, { error: { code: "SecretNotFound", message: `A secret with (name/id) ${match?.[1]} was not found in this key vault.` } });
      send(200, {
        value: secret.value,
        id: `https://${HOST}/secrets/${match![1]}/0123456789abcdef`,
        attributes: { enabled: secret.enabled ?? true, created: 1700000000, updated: 1700000000, recoveryLevel: "Recoverable+Purgeable" },
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    vaultUrl = `https://${HOST}:${(server.address() as AddressInfo).port}`;
    const lookup: LookupFunction = (hostname, options, callback) => {
      if (hostname !== HOST) return callback(new Error(`unexpected host ${hostname}`), "", 4);
      if (options.all) return (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
      callback(null, "127.0.0.1", 4);
    };
    agent = new Agent({ ca: cert, lookup, keepAlive: true });
  });

  after(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const provider = () =>
    new KeyVaultSecretProvider(vaultUrl, { credential, clientOptions: { agent, retryOptions: { maxRetries: 0 } } });

  it("answers the challenge with a token for the vault's scope, reads the secret, and caches it", async () => {
    const kv = provider();
    requests.length = 0;
    assert.equal(await kv.get("shop-db-url"), SECRETS["shop-db-url"].value);
    assert.equal(requests[0].auth, undefined, "first request carries no token (challenge-based auth)");
    assert.equal(requests[1].auth, `Bearer ${TOKEN}`);
    assert.deepEqual(scopes, ["https://vault.azure.net/.default"]);
    const before = requests.length;
    await Promise.all([kv.get("shop-db-url"), kv.get("shop-db-url")]);
    assert.equal(requests.length, before, "served from the instance's cache");
  });

  it("reports an absent or disabled secret as not there, so the chain can look elsewhere", async () => {
    const kv = provider();
    assert.equal(await kv.get("missing"), undefined);
    assert.equal(await kv.get("disabled-one"), undefined);
  });

  it("maps names Key Vault does not allow, and names the vault, never the value, in errors", async () => {
    assert.equal(keyVaultSecretName("shop_db.url"), "shop-db-url");
    const kv = provider();
    failNext = 1;
    const error = await kv.get("shop_db_url").then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /secret "shop_db_url": Key Vault https:\/\/mallardtest/);
    assert.doesNotMatch(error.message, /s3cr3t/);
    assert.equal(await kv.get("shop_db_url"), SECRETS["shop-db-url"].value, "a failure is not cached");
    assert.doesNotMatch(kv.description, /s3cr3t/);
  });

  it("joins the chain after the environment when the vault URL is set", async () => {
    const chain = await defaultSecretChain({
      projectRoot: tmpdir(),
      env: { MALLARD_KEY_VAULT_URL: vaultUrl, MALLARD_SECRET_OTHER: "from-env" },
      keyVault: { credential, clientOptions: { agent } },
    });
    const ref = { kind: "secret", name: "shop-db-url" } as const;
    assert.ok(isSecretRef(ref));
    assert.equal(await chain.resolve(ref, "source shop"), SECRETS["shop-db-url"].value);
    assert.equal(await chain.resolve({ ...ref, name: "other" }, "source shop"), "from-env");
    await assert.rejects(chain.resolve({ ...ref, name: "nowhere" }, "source shop"), /looked in: environment.*Key Vault https/);
    assert.equal((await defaultSecretChain({ projectRoot: tmpdir(), env: {} })).providers.length, 2, "environment and secrets file only");
  });
});
