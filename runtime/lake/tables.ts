// Published tables (silver, gold, quarantine, dedup outputs) are Delta tables (runtime/lake/delta/): a
// publish is one commit that removes the previous version's files and adds the new one, so every engine
// that reads Delta sees whole versions only, and older versions stay readable until vacuum. Whether a
// publish may replace the current version is decided by mayPublish (publish-guard.ts) on the snapshot
// the commit would land on; the lineage it compares is kept in the table's properties and commitInfo.

import type { DuckDBConnection } from "@duckdb/node-api";
import { ConfigError } from "../errors.ts";
import { lakePath } from "./lake.ts";
import type { Lake } from "./lake.ts";
import { overwriteTable } from "./delta/overwrite.ts";
import { type AsOf, loadSnapshot, type Snapshot } from "./delta/replay.ts";
import { migratePublishedTable } from "./migrate.ts";
import { type InputVersions, type Lineage, mayPublish, TaskAbandoned } from "./publish-guard.ts";

/** Table properties holding the lineage of the current version. */
export const RUN_ID_PROPERTY = "mallard.runId";
export const INPUTS_PROPERTY = "mallard.inputs";
/** The pipeline whose model publishes the table: tables are named by model alone, so one pipeline owns each. */
export const PIPELINE_PROPERTY = "mallard.pipeline";

/** `silver/orders_clean`, `gold/daily_revenue`, `silver/orders_clean__quarantine`. */
export function tableRoot(layer: string, name: string): string {
  return lakePath(layer, name);
}

/** The table properties recording a version's lineage. */
export function lineageProperties(lineage: Lineage): Record<string, string> {
  return { [RUN_ID_PROPERTY]: lineage.runId, [INPUTS_PROPERTY]: JSON.stringify(lineage.inputs) };
}

/** What the table's current version was computed from (absent for a table no Mallard run published). */
export function lineageOf(snapshot: Snapshot | undefined): Lineage | undefined {
  const configuration = snapshot?.metadata.configuration;
  const runId = configuration?.[RUN_ID_PROPERTY];
  if (!runId) return undefined;
  return { runId, inputs: JSON.parse(configuration[INPUTS_PROPERTY] ?? "{}") as InputVersions };
}

/**
 * The table's snapshot (latest, or as of a version or time); undefined when it was never published. A
 * table still in the `_current.json` layout of earlier Mallard versions is converted first.
 */
export async function readTable(lake: Lake, con: DuckDBConnection, root: string, asOf?: AsOf): Promise<Snapshot | undefined> {
  await migratePublishedTable(lake, con, root);
  return loadSnapshot(lake, con, root, asOf);
}

export interface PublishInput {
  readonly root: string;
  readonly runId: string;
  /** The SQL whose result becomes the new version. */
  readonly query: string;
  /** Local folder for the Parquet file before upload (the engine's work folder). */
  readonly workDir: string;
  /** The versions of the inputs the query reads. @default none: ordered by run only */
  readonly inputs?: InputVersions;
  /** Whether the publishing task still holds its run; asked right before the commit. @default always */
  readonly holdsTask?: () => Promise<boolean>;
  /**
   * The publishing pipeline: recorded on the table, and a table another pipeline publishes is refused
   * (two pipelines sharing a lake with a model of the same name). @default none: no owner recorded or checked
   */
  readonly pipeline?: string;
}

export type PublishResult =
  | { readonly published: true; readonly version: number; readonly rows: number; readonly bytes: number }
  /** Stepped aside for a current version computed from newer inputs. */
  | { readonly published: false; readonly reason: string; readonly rows: number; readonly current: number | undefined };

/**
 * Write the query's result and commit it as the table's next version. A publish whose inputs are older
 * than the current version's steps aside (its file is removed), so stale data never replaces fresher
 * data whatever order the publishes finish in; a task that no longer holds its run throws TaskAbandoned
 * and publishes nothing.
 */
export async function publishTable(lake: Lake, con: DuckDBConnection, input: PublishInput): Promise<PublishResult> {
  await migratePublishedTable(lake, con, input.root);
  const inputs = input.inputs ?? {};
  const outcome = await overwriteTable(lake, con, {
    root: input.root,
    query: input.query,
    workDir: input.workDir,
    configuration: { ...lineageProperties({ runId: input.runId, inputs }), ...(input.pipeline ? { [PIPELINE_PROPERTY]: input.pipeline } : {}) },
    provenance: { runId: input.runId, inputs },
    guard: async (snapshot) => {
      const owner = snapshot?.metadata.configuration?.[PIPELINE_PROPERTY];
      if (input.pipeline && owner && owner !== input.pipeline) {
        throw new ConfigError([
          `${input.root} is published by pipeline "${owner}": pipeline "${input.pipeline}" cannot publish a table of the same ` +
            "name in the same lake (a table is named by its model alone): rename one of the two models, or give each pipeline its own lake",
        ]);
      }
      const active = input.holdsTask ? await input.holdsTask() : true;
      const verdict = mayPublish(lineageOf(snapshot), { runId: input.runId, inputs, active });
      if (verdict.go) return undefined;
      if (verdict.outcome === "abandoned") throw new TaskAbandoned(`${input.root}: ${verdict.reason}`);
      return verdict.reason;
    },
  });
  return outcome.committed
    ? { published: true, version: outcome.version, rows: outcome.rows, bytes: outcome.bytes }
    : { published: false, reason: outcome.reason, rows: outcome.rows, current: outcome.snapshot?.version };
}
