// The sample run a report test looks at: configs/pipeline.ts against the embedded PostgreSQL with the
// sample shop, run by the local runner into a scratch lake, plus one order whose status is markup (a
// source sending hostile text): it fails a warn check, so it appears in the report's sample rows.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadPipeline } from "../../../runtime/config/load-pipeline.ts";
import type { Pipeline } from "../../../runtime/declare/pipeline.ts";
import { startEmbeddedPostgres } from "../../../runtime/demo/embedded-postgres.ts";
import { seedShop } from "../../../runtime/demo/shop-data.ts";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../../runtime/secrets/secrets.ts";
import type { RunRecord } from "../../../runtime/state/run-records.ts";
import { HOSTILE } from "./fixtures.ts";

export const REPO = resolve(import.meta.dirname, "../../..");

export interface SampleRun {
  readonly pipeline: Pipeline;
  readonly lake: LocalLake;
  readonly record: RunRecord;
  readonly dir: string;
  dispose(): Promise<void>;
}

export async function sampleRun(): Promise<SampleRun> {
  const dir = await mkdtemp(join(tmpdir(), "mallard-report-"));
  const postgres = await startEmbeddedPostgres();
  try {
    await seedShop(postgres.db);
    // The shop's own bad statuses go, so the hostile one is the warn check's whole sample.
    await postgres.db.query(`UPDATE orders SET status = 'paid' WHERE status NOT IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled')`);
    await postgres.db.query(
      `INSERT INTO orders (id, customer_id, status, ordered_at, updated_at, total, currency)
       VALUES (999001, 1, $1, '2026-10-30T10:00:00Z', '2026-10-30T10:00:00Z', 12.50, 'EUR')`, [HOSTILE]);
    await postgres.db.query(`INSERT INTO order_lines VALUES (999001, 1, 'SKU-001', 1, 12.50, '2026-10-30T10:00:00Z')`);
    const pipeline = await loadPipeline(join(REPO, "configs/pipeline.ts"), REPO);
    const lake = new LocalLake(join(dir, "lake"));
    const secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: postgres.url })]);
    const record = await runLocal({ pipeline, lake, secrets, projectRoot: REPO, trigger: "test" });
    return { pipeline, lake, record, dir, dispose: () => rm(dir, { recursive: true, force: true }) };
  } finally {
    await postgres.close();
  }
}
