// `mallard demo` (`npm start`): an embedded PostgreSQL with the sample shop, then the sample pipeline.
// The first start seeds the shop; every later start changes it first, so the run is incremental.

import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { DEFAULT_CONFIG, loadPipeline } from "../../config/load-pipeline.ts";
import { startEmbeddedPostgres } from "../../demo/embedded-postgres.ts";
import { mutateShop, seedShop } from "../../demo/shop-data.ts";
import { LocalLake } from "../../lake/local-lake.ts";
import { runLocal } from "../../orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../secrets/secrets.ts";
import { RunDisplay } from "../display.ts";
import { printReport, printSummary } from "./run.ts";

export interface DemoOptions {
  lake: string;
  dataDir: string;
  reset: boolean;
}

export async function demoCommand(options: DemoOptions): Promise<number> {
  const out = process.stdout;
  if (options.reset) {
    await rm(options.dataDir, { recursive: true, force: true });
    await rm(options.lake, { recursive: true, force: true });
  }
  out.write(`starting the embedded PostgreSQL (PGlite) in ${options.dataDir} …\n`);
  const postgres = await startEmbeddedPostgres({ dataDir: options.dataDir });
  try {
    if (await seedShop(postgres.db)) {
      out.write("seeded the sample shop: 1,150 customers (150 near-duplicates), 5,000 orders and their lines\n");
    } else {
      const m = await mutateShop(postgres.db);
      out.write(`changed the shop (generation ${m.generation}): ${m.updated} orders updated, ${m.inserted} inserted, ${m.late} late-arriving\n`);
    }
    const projectRoot = process.cwd();
    const pipeline = await loadPipeline(DEFAULT_CONFIG, projectRoot);
    const lake = new LocalLake(options.lake);
    const secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: postgres.url })]);
    const record = await runLocal({ pipeline, lake, secrets, projectRoot, onEvent: new RunDisplay().handle, trigger: "demo" });
    printSummary(record, lake.location);
    await printReport(pipeline, lake, record);
    if (record.status === "succeeded") {
      out.write(`\nEvery table is a Delta table under ${resolve(options.lake)}; query them with\n  npx mallard query --lake ${options.lake} "SELECT * FROM daily_revenue LIMIT 10"\n`);
      out.write(`or open them from Spark, Fabric, Power BI or Polars: see "Reading the lake" in the README.\n`);
      out.write(`Run npm start again to change the source and load incrementally; npx mallard status for checkpoints.\n`);
    }
    return record.status === "succeeded" ? 0 : 1;
  } finally {
    await postgres.close();
  }
}
