// AzureLake against a real Azurite (Blob endpoint): the shared lake contract, then what only the Azure
// lake does (containers per layer, roots, the local cache, lake addresses).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { AzureLake } from "../../../runtime/lake/azure-lake.ts";
import { parseLakeSpec, lakeConnectionFromSettings } from "../../../runtime/lake/azure-connection.ts";
import { type Azurite, startAzurite } from "../../helpers/azurite.ts";
import { lakeContract } from "./lake-contract.ts";

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

lakeContract("AzureLake on Azurite", async () => {
  const lake = new AzureLake({
    connection: { kind: "connectionString", connectionString: azurite.connectionString },
    root: `contract-${randomBytes(4).toString("hex")}`,
    blockSize: 1024 * 1024,
    uploadConcurrency: 2,
  });
  return { lake, close: () => lake.cache.clear() };
});

describe("AzureLake specifics", () => {
  let lake: AzureLake;
  let work: string;
  before(async () => {
    lake = new AzureLake({
      connection: { kind: "connectionString", connectionString: azurite.connectionString },
      root: "specifics",
      cache: { maxBytes: 3000 },
    });
    work = await mkdtemp(join(tmpdir(), "mallard-azure-lake-"));
  });
  after(async () => {
    await lake.cache.clear();
    await rm(work, { recursive: true, force: true });
  });

  const put = async (path: string, bytes: Buffer) => {
    const file = join(work, randomBytes(6).toString("hex"));
    await writeFile(file, bytes);
    return lake.putFile(file, path);
  };

  it("puts each layer in its own container, under the root", async () => {
    await put("bronze/s/t/a.parquet", Buffer.from("b"));
    await lake.writeJson("_mallard/state/x.json", { a: 1 });
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const names = async (container: string) => {
      const out: string[] = [];
      for await (const b of service.getContainerClient(container).listBlobsFlat()) out.push(b.name);
      return out;
    };
    assert.ok((await names("bronze")).includes("specifics/s/t/a.parquet"));
    assert.ok((await names("state")).includes("specifics/state/x.json"));
    assert.throws(() => lake.locate("elsewhere/x.json"), /must start with bronze\/, silver\/, gold\/, _mallard\//);
    assert.throws(() => lake.locate("gold/../bronze/x"), /escapes/);
  });

  it("skips directory marker blobs that an ADLS Gen2 account lists", async () => {
    const { container, blob } = lake.locate("silver/markers/dir");
    await container.getBlockBlobClient(blob).upload("", 0, { metadata: { hdi_isfolder: "true" } });
    await put("silver/markers/dir/file.parquet", Buffer.from("x"));
    const found: string[] = [];
    for await (const o of lake.list("silver/markers")) found.push(o.path);
    assert.deepEqual(found, ["silver/markers/dir/file.parquet"]);
  });

  it("keeps uploaded files in the cache, re-downloads only what changed, and evicts unpinned files over budget", async () => {
    const a = randomBytes(1000);
    await put("gold/cache/a.parquet", a);
    const [fileA] = await lake.localFiles(["gold/cache/a.parquet"]);
    assert.ok((await readFile(fileA)).equals(a));
    const before = (await stat(fileA)).mtimeMs;
    await lake.localFiles(["gold/cache/a.parquet"]); // 304: served from cache
    assert.equal((await stat(fileA)).mtimeMs, before);

    // Another writer replaces it behind this instance's back: the etag check fetches the new bytes.
    const other = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: "specifics" });
    const b = randomBytes(1200);
    const file = join(work, "other");
    await writeFile(file, b);
    await other.putFile(file, "gold/cache/a.parquet");
    await other.cache.clear();
    assert.ok((await readFile((await lake.localFiles(["gold/cache/a.parquet"]))[0])).equals(b));

    // Budget 3000 bytes: pinned files stay, released ones go least recently used first.
    await lake.release(["gold/cache/a.parquet", "gold/cache/a.parquet", "gold/cache/a.parquet"]);
    await put("gold/cache/b.parquet", randomBytes(1000));
    await put("gold/cache/c.parquet", randomBytes(1000));
    const scoped = lake.scope();
    await scoped.localFiles(["gold/cache/b.parquet", "gold/cache/c.parquet"]);
    await put("gold/cache/d.parquet", randomBytes(1000));
    await lake.release([]);
    assert.equal(lake.cache.etagOf("gold/cache/a.parquet"), undefined, "a was least recently used and unpinned");
    assert.ok(lake.cache.etagOf("gold/cache/b.parquet") && lake.cache.etagOf("gold/cache/c.parquet"));
    await scoped.close();
    assert.ok(lake.cache.bytes <= 3000);
  });

  it("deletes a folder blob by blob on a flat account, and refuses ACLs there", async () => {
    await put("silver/gone/a.parquet", Buffer.from("a"));
    await put("silver/gone/b/c.parquet", Buffer.from("c"));
    await lake.deletePrefix("silver/gone");
    const left: string[] = [];
    for await (const o of lake.list("silver/gone")) left.push(o.path);
    assert.deepEqual(left, []);
    assert.throws(() => lake.dfs.service(), /hierarchical namespace/);
  });

  it("names external paths: blob URL on Azurite, abfss on an Azure account", () => {
    assert.equal(lake.externalPath("gold/r/x.parquet"), `${azurite.blobEndpoint}/gold/specifics/r/x.parquet`);
    const azure = new AzureLake({ connection: { kind: "identity", account: "mallarddev", credential: { getToken: async () => null } } });
    assert.equal(azure.externalPath("gold/r/x.parquet"), "abfss://gold@mallarddev.dfs.core.windows.net/r/x.parquet");
    assert.equal(azure.dfs.endpoint, "https://mallarddev.dfs.core.windows.net");
    assert.equal(azure.location, "https://mallarddev.blob.core.windows.net");
    assert.ok(!lake.location.includes("AccountKey") && !lake.location.includes("Eby8"));
  });

  it("parses lake addresses and app settings", () => {
    assert.deepEqual(parseLakeSpec("abfss://gold@mallarddev.dfs.core.windows.net/"), { kind: "identity", account: "mallarddev" });
    assert.deepEqual(parseLakeSpec("https://mallarddev.blob.core.windows.net"), { kind: "identity", account: "mallarddev" });
    assert.deepEqual(parseLakeSpec("az://mallarddev"), { kind: "identity", account: "mallarddev" });
    assert.equal(parseLakeSpec("UseDevelopmentStorage=true")?.kind, "connectionString");
    assert.equal(parseLakeSpec("./.mallard/lake"), undefined);
    assert.throws(() => parseLakeSpec("abfss://nope"), /not an Azure lake address/);
    assert.deepEqual(lakeConnectionFromSettings({ MALLARD_LAKE_ACCOUNT: "acc" }), { kind: "identity", account: "acc", blobEndpoint: undefined });
    assert.equal(lakeConnectionFromSettings({}), undefined);
  });
});
