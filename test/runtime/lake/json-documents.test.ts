// JsonDocuments: ETag-conditional read-modify-write of small JSON documents, batched within a process and
// started from the version last seen. Two instances stand for two processes (two Functions instances) on
// one real local lake folder; the lake's reads and writes are counted to show the round trips saved.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { JsonDocuments } from "../../../runtime/lake/json-documents.ts";
import type { Lake } from "../../../runtime/lake/lake.ts";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";

interface Doc {
  n: number;
  claimedBy?: string;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-json-documents-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The lake, with its readJson and writeJson calls counted. */
function counting(lake: Lake) {
  const calls = { reads: 0, writes: 0 };
  const counted: Lake = Object.assign(Object.create(lake) as Lake, {
    readJson: <T>(path: string) => (calls.reads++, lake.readJson<T>(path)),
    writeJson: (path: string, value: unknown, condition?: { ifMatch?: string | null }) => (calls.writes++, lake.writeJson(path, value, condition)),
  });
  return { lake: counted, calls };
}

const increment = (by = 1) => (doc: Doc | undefined) => ({ next: { ...doc, n: (doc?.n ?? 0) + by }, result: (doc?.n ?? 0) + by });

describe("JsonDocuments", () => {
  it("puts the changes asked for during a write into one next write, and all land", async () => {
    const { lake, calls } = counting(new LocalLake(dir));
    const docs = new JsonDocuments<Doc>(lake);
    await docs.create("_mallard/t/batched.json", { n: 0 });
    const results = await Promise.all(Array.from({ length: 20 }, () => docs.update("_mallard/t/batched.json", increment())));
    assert.deepEqual(results.map((r) => r.result).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await new LocalLake(dir).readJson<Doc>("_mallard/t/batched.json"))?.value.n, 20);
    // The create, then one write: all twenty were asked for before it began.
    assert.equal(calls.writes, 1 + 1);
    // Asked for while a write is in flight, changes wait for it and then go together into the next one.
    const inFlight = docs.update("_mallard/t/batched.json", increment());
    await new Promise((r) => setImmediate(r));
    const meanwhile = Promise.all(Array.from({ length: 5 }, () => docs.update("_mallard/t/batched.json", increment())));
    await Promise.all([inFlight, meanwhile]);
    assert.equal(calls.writes, 1 + 1 + 2);
    assert.equal((await new LocalLake(dir).readJson<Doc>("_mallard/t/batched.json"))?.value.n, 26);
    assert.equal(calls.reads, 0, "every write started from the version this instance wrote last");
  });

  it("keeps every change of two processes writing one document, through lost races", async () => {
    const a = new JsonDocuments<Doc>(new LocalLake(dir));
    const b = new JsonDocuments<Doc>(new LocalLake(dir));
    await a.create("_mallard/t/two.json", { n: 0 });
    // Both remember versions the other keeps overwriting: most writes start from a stale version.
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).update("_mallard/t/two.json", increment())));
    assert.equal((await a.read("_mallard/t/two.json"))?.value.n, 30);
  });

  it("decides a change that writes nothing on what the lake holds, not on the version it remembers", async () => {
    const { lake, calls } = counting(new LocalLake(dir));
    const a = new JsonDocuments<Doc>(lake);
    const b = new JsonDocuments<Doc>(new LocalLake(dir));
    const claim = (who: string) => (doc: Doc | undefined) =>
      doc?.claimedBy ? { result: `already ${doc.claimedBy}'s` } : { next: { n: doc?.n ?? 0, claimedBy: who }, result: "claimed" };

    await a.create("_mallard/t/claim.json", { n: 0 });
    // b claims behind a's back: a remembers the unclaimed version, its write fails, it reads and refuses.
    assert.equal((await b.update("_mallard/t/claim.json", claim("b"))).result, "claimed");
    assert.equal((await a.update("_mallard/t/claim.json", claim("a"))).result, "already b's");

    // b releases it behind a's back: a remembers b's claim, and must not refuse on that memory.
    await b.update("_mallard/t/claim.json", (doc) => ({ next: { n: doc!.n }, result: undefined }));
    const readsBefore = calls.reads;
    assert.equal((await a.update("_mallard/t/claim.json", claim("a"))).result, "claimed");
    assert.equal(calls.reads, readsBefore + 1, "the refusal the memory suggested was checked by a read");
    assert.equal((await b.read("_mallard/t/claim.json"))?.value.claimedBy, "a");
  });

  it("fails a change that throws alone; the others of its batch land", async () => {
    const docs = new JsonDocuments<Doc>(new LocalLake(dir));
    await docs.create("_mallard/t/throws.json", { n: 0 });
    const first = docs.update("_mallard/t/throws.json", increment());
    const bad = docs.update("_mallard/t/throws.json", () => {
      throw new Error("refused");
    });
    const third = docs.update("_mallard/t/throws.json", increment(10));
    await assert.rejects(bad, /refused/);
    assert.equal((await first).result, 1);
    assert.deepEqual(await third, { result: 11, value: { n: 11 } });
  });

  it("forgets versions it is told are final, and reads them afresh", async () => {
    const { lake, calls } = counting(new LocalLake(dir));
    const docs = new JsonDocuments<Doc>(lake, { remember: (doc) => doc.n < 2 });
    await docs.create("_mallard/t/final.json", { n: 0 });
    await docs.update("_mallard/t/final.json", increment());
    assert.equal(calls.reads, 0);
    await docs.update("_mallard/t/final.json", increment()); // n = 2: not remembered
    await docs.update("_mallard/t/final.json", increment());
    assert.equal(calls.reads, 1);
    assert.equal((await docs.read("_mallard/t/final.json"))?.value.n, 3);
  });
});
