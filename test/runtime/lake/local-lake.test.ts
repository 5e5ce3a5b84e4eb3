// The local-folder lake against the shared lake contract.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { lakeContract } from "./lake-contract.ts";

lakeContract("LocalLake", async () => {
  const root = await mkdtemp(join(tmpdir(), "mallard-local-lake-"));
  return { lake: new LocalLake(root), close: () => rm(root, { recursive: true, force: true }) };
});
