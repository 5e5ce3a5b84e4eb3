// The local secret chain: environment first, then the git-ignored secrets file; errors name the secret
// and where it was looked for, never a value.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { secret } from "../../../runtime/declare/secret.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import { EnvSecretProvider, FileSecretProvider, SecretChain, secretEnvName } from "../../../runtime/secrets/secrets.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-secrets-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("SecretChain", () => {
  it("takes the environment before the file, and plain strings as they are", async () => {
    const file = join(dir, "s.json");
    await writeFile(file, JSON.stringify({ "shop-db-url": "from-file", "other": "file-only" }));
    const chain = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: "from-env" }), new FileSecretProvider(file)]);
    assert.equal(secretEnvName("shop-db-url"), "MALLARD_SECRET_SHOP_DB_URL");
    assert.equal(await chain.resolve(secret("shop-db-url"), "x"), "from-env");
    assert.equal(await chain.resolve(secret("other"), "x"), "file-only");
    assert.equal(await chain.resolve("postgres://local", "x"), "postgres://local");
  });

  it("names the secret and the places it looked, not any value", async () => {
    const chain = new SecretChain([new EnvSecretProvider({}), new FileSecretProvider(join(dir, "absent.json"))]);
    await assert.rejects(chain.resolve(secret("crm-db"), 'source "crm": connection'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^source "crm": connection: secret "crm-db" not found \(looked in: environment \(MALLARD_SECRET_<NAME>\); secrets file .*absent\.json\)$/);
      return true;
    });
  });

  it("refuses a malformed secrets file without quoting it", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, `{ "api-token": 'tok_abcdef123456' }`);
    const chain = new SecretChain([new FileSecretProvider(file)]);
    await assert.rejects(chain.resolve(secret("api-token"), "x"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.doesNotMatch(e.message, /tok_/);
      assert.match(e.message, /bad\.json: not valid JSON/);
      return true;
    });
  });
});
