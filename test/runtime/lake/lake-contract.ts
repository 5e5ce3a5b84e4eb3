// The behaviour every Lake must have, run against each implementation (local folder, Azure Storage on
// Azurite): conditional writes where exactly one racer wins, all-or-nothing files, listing and deletes.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Lake, PreconditionFailed } from "../../../runtime/lake/lake.ts";

export interface LakeUnderTest {
  lake: Lake;
  close(): Promise<void>;
}

async function collect(lake: Lake, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const o of lake.list(prefix)) found.set(o.path, o.size);
  return found;
}

async function settle<T>(promises: Promise<T>[]): Promise<{ won: T[]; lost: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    won: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])),
    lost: results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])),
  };
}

export function lakeContract(name: string, open: () => Promise<LakeUnderTest>): void {
  describe(`Lake contract: ${name}`, () => {
    let subject: LakeUnderTest;
    let lake: Lake;
    let work: string;
    before(async () => {
      subject = await open();
      lake = subject.lake;
      work = await mkdtemp(join(tmpdir(), "mallard-lake-contract-"));
    });
    after(async () => {
      await subject.close();
      await rm(work, { recursive: true, force: true });
    });

    const localFile = async (bytes: Buffer) => {
      const file = join(work, `${randomBytes(6).toString("hex")}.bin`);
      await writeFile(file, bytes);
      return file;
    };

    it("reads nothing where nothing was written", async () => {
      assert.equal(await lake.readJson("_mallard/absent/state.json"), undefined);
      assert.deepEqual([...(await collect(lake, "silver/absent"))], []);
    });

    it("writes JSON and reads it back with the etag the write returned", async () => {
      const etag = await lake.writeJson("_mallard/json/a.json", { n: 1, text: "zürich ✓" });
      const read = await lake.readJson<{ n: number; text: string }>("_mallard/json/a.json");
      assert.deepEqual(read?.value, { n: 1, text: "zürich ✓" });
      assert.equal(read?.etag, etag);
      const etag2 = await lake.writeJson("_mallard/json/a.json", { n: 2 });
      assert.notEqual(etag2, etag);
      assert.deepEqual((await lake.readJson("_mallard/json/a.json"))?.value, { n: 2 });
    });

    it("creates only if absent (ifMatch: null)", async () => {
      await lake.writeJson("_mallard/create/x.json", { first: true }, { ifMatch: null });
      await assert.rejects(lake.writeJson("_mallard/create/x.json", { first: false }, { ifMatch: null }), PreconditionFailed);
      assert.deepEqual((await lake.readJson("_mallard/create/x.json"))?.value, { first: true });
    });

    it("updates only if unchanged (ifMatch: etag)", async () => {
      const e1 = await lake.writeJson("_mallard/cas/x.json", { v: 1 });
      const e2 = await lake.writeJson("_mallard/cas/x.json", { v: 2 }, { ifMatch: e1 });
      await assert.rejects(lake.writeJson("_mallard/cas/x.json", { v: 3 }, { ifMatch: e1 }), PreconditionFailed);
      assert.deepEqual((await lake.readJson("_mallard/cas/x.json"))?.value, { v: 2 });
      await lake.writeJson("_mallard/cas/x.json", { v: 4 }, { ifMatch: e2 });
      await assert.rejects(lake.writeJson("_mallard/cas/absent.json", { v: 1 }, { ifMatch: e2 }), PreconditionFailed);
    });

    it("lets exactly one of many racing creators win", async () => {
      for (let round = 0; round < 5; round++) {
        const path = `_mallard/race-create/${round}.json`;
        const { won, lost } = await settle(Array.from({ length: 8 }, (_, i) => lake.writeJson(path, { writer: i }, { ifMatch: null })));
        assert.equal(won.length, 1, `round ${round}: ${won.length} creators won`);
        assert.ok(lost.every((e) => e instanceof PreconditionFailed), String(lost.find((e) => !(e instanceof PreconditionFailed))));
        assert.equal((await lake.readJson(path))?.etag, won[0]);
      }
    });

    it("lets exactly one of many racing updaters of the same version win", async () => {
      for (let round = 0; round < 5; round++) {
        const path = `_mallard/race-update/${round}.json`;
        const base = await lake.writeJson(path, { writer: -1 });
        const { won, lost } = await settle(Array.from({ length: 8 }, (_, i) => lake.writeJson(path, { writer: i }, { ifMatch: base })));
        assert.equal(won.length, 1, `round ${round}: ${won.length} updaters won`);
        assert.ok(lost.every((e) => e instanceof PreconditionFailed));
        const read = await lake.readJson<{ writer: number }>(path);
        assert.equal(read?.etag, won[0]);
        assert.notEqual(read?.value.writer, -1);
      }
    });

    it("loses no update when writers retry after losing (read-modify-write counter)", async () => {
      const path = "_mallard/counter.json";
      await lake.writeJson(path, { count: 0 });
      const increment = async () => {
        for (;;) {
          const current = (await lake.readJson<{ count: number }>(path))!;
          try {
            await lake.writeJson(path, { count: current.value.count + 1 }, { ifMatch: current.etag });
            return;
          } catch (e) {
            if (!(e instanceof PreconditionFailed)) throw e;
          }
        }
      };
      await Promise.all(Array.from({ length: 10 }, increment));
      assert.equal((await lake.readJson<{ count: number }>(path))?.value.count, 10);
    });

    it("writes text put-if-absent byte for byte, and exactly one racing creator wins (Delta commits)", async () => {
      const commit = (writer: number) => `{"commitInfo":{"writer":${writer}}}\n{"add":{"path":"zürich ✓.parquet"}}\n`;
      for (let round = 0; round < 5; round++) {
        const path = `silver/race_text/_delta_log/${String(round).padStart(20, "0")}.json`;
        const { won, lost } = await settle(Array.from({ length: 8 }, (_, i) => lake.writeText(path, commit(i), { ifMatch: null })));
        assert.equal(won.length, 1, `round ${round}: ${won.length} creators won`);
        assert.ok(lost.every((e) => e instanceof PreconditionFailed), String(lost.find((e) => !(e instanceof PreconditionFailed))));
        const read = await lake.readText(path);
        assert.equal(read?.etag, won[0]);
        assert.match(read!.value, /^\{"commitInfo":\{"writer":\d\}\}\n\{"add":\{"path":"zürich ✓\.parquet"\}\}\n$/);
      }
      assert.equal(await lake.readText("silver/race_text/_delta_log/absent.json"), undefined);
    });

    it("lists each object with its modification time", async () => {
      const before = Date.now() - 120_000;
      await lake.writeText("gold/mtime/_delta_log/_last_checkpoint", "{}");
      const objects = [];
      for await (const o of lake.list("gold/mtime")) objects.push(o);
      const [object] = objects;
      assert.ok(object.modified !== undefined && object.modified > before && object.modified < Date.now() + 120_000, String(object.modified));
    });

    it("puts a file whole and serves the same bytes back as a local file", async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 123);
      const put = await lake.putFile(await localFile(bytes), "bronze/shop/orders/load_date=2026-11-24/a.parquet");
      assert.deepEqual(put, { path: "bronze/shop/orders/load_date=2026-11-24/a.parquet", size: bytes.length });
      const [file] = await lake.localFiles([put.path]);
      assert.ok((await readFile(file)).equals(bytes));
    });

    it("replaces a file whole: a reader gets the new bytes", async () => {
      const path = "gold/revenue/data.parquet";
      await lake.putFile(await localFile(Buffer.from("version one")), path);
      assert.equal(await readFile((await lake.localFiles([path]))[0], "utf8"), "version one");
      await lake.putFile(await localFile(Buffer.from("version two, longer")), path);
      assert.equal(await readFile((await lake.localFiles([path]))[0], "utf8"), "version two, longer");
    });

    it("lists recursively under a prefix, and nothing beside it", async () => {
      await lake.putFile(await localFile(Buffer.from("1")), "silver/list_a/p=1/x.parquet");
      await lake.putFile(await localFile(Buffer.from("22")), "silver/list_a/p=2/y.parquet");
      await lake.putFile(await localFile(Buffer.from("333")), "silver/list_ab/z.parquet");
      await lake.writeJson("silver/list_a/_manifest.json", { ok: true });
      const found = await collect(lake, "silver/list_a");
      assert.deepEqual([...found.keys()].sort(), ["silver/list_a/_manifest.json", "silver/list_a/p=1/x.parquet", "silver/list_a/p=2/y.parquet"]);
      assert.equal(found.get("silver/list_a/p=2/y.parquet"), 2);
      const all = await collect(lake, "");
      assert.ok(all.has("silver/list_ab/z.parquet") && all.has("_mallard/counter.json"));
      assert.ok(![...all.keys()].some((p) => p.endsWith(".tmp") || p.endsWith(".lock")));
    });

    it("deletes an object, and deleting an absent one is fine", async () => {
      await lake.writeJson("_mallard/del/x.json", { a: 1 });
      await lake.delete("_mallard/del/x.json");
      await lake.delete("_mallard/del/x.json");
      assert.equal(await lake.readJson("_mallard/del/x.json"), undefined);
      await lake.writeJson("_mallard/del/x.json", { a: 2 }, { ifMatch: null });
    });

    it("names an external path for outside readers", () => {
      assert.match(lake.externalPath("gold/revenue/data.parquet"), /revenue\/data\.parquet$/);
    });
  });
}
