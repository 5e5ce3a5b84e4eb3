// Run by identity.test.ts in a child process whose environment is an Azure Functions instance's: the
// managed identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER) and the lake and queue settings. It uses
// the runtime exactly as the Functions entry does (DefaultAzureCredential, no key) and prints what worked.

import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { AzureLake } from "../../../runtime/lake/azure-lake.ts";
import { lakeConnectionFromSettings } from "../../../runtime/lake/azure-connection.ts";
import { PreconditionFailed } from "../../../runtime/lake/lake.ts";
import { decodeTaskMessage } from "../../../runtime/orchestration/queue/message.ts";
import { taskQueueFromSettings } from "../../../runtime/orchestration/queue/azure-queue.ts";

const connection = lakeConnectionFromSettings(process.env)!;
// Without a credential the same endpoint refuses: the checks below are not vacuous.
const anonymous = await new BlobServiceClient(process.env.MALLARD_LAKE_BLOB_ENDPOINT!).getContainerClient("state").exists()
  .then(() => 200, (e: { statusCode?: number }) => e.statusCode ?? 0);
const lake = new AzureLake({ connection, hierarchicalNamespace: false });
const etag = await lake.writeJson("_mallard/identity/x.json", { ok: 1 }, { ifMatch: null });
const raced = await lake.writeJson("_mallard/identity/x.json", { ok: 2 }, { ifMatch: null }).then(() => false, (e) => e instanceof PreconditionFailed);
const read = await lake.readJson<{ ok: number }>("_mallard/identity/x.json");
const dir = await mkdtemp(join(tmpdir(), "mallard-identity-"));
await writeFile(join(dir, "f.bin"), "parquet bytes");
await lake.putFile(join(dir, "f.bin"), "gold/t/f.parquet");
await lake.cache.clear();
const [file] = await lake.localFiles(["gold/t/f.parquet"]);
const queue = taskQueueFromSettings(process.env)!;
await queue.ensure();
await queue.send({ v: 1, runId: "r", pipeline: "p", task: "t", attempt: 1 });
const [message] = await queue.receive();
await message.complete();
console.log(JSON.stringify({
  connection: connection.kind,
  anonymousRefused: anonymous === 401 || anonymous === 403,
  createdWithEtag: read?.etag === etag,
  secondCreateRefused: raced,
  fileBack: await readFile(file, "utf8"),
  queued: decodeTaskMessage(message.body).task,
}));
await lake.cache.clear();
