// Run code of `silver.dedup`: link the input's records into entities with the dedup engine and publish
// three tables: `<name>` (one survivor per entity), `<name>__links` (why records were merged) and
// `<name>__entities` (record id → stable entity id). Trained parameters are saved for later runs.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { SilverDedup } from "../../declare/stages.ts";
import { runDedup, type DedupParams } from "../../dedup/index.ts";
import { tableNames } from "../../dedup/model.ts";
import { describeError } from "../../errors.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { lakePath } from "../../lake/lake.ts";
import { lineageOf, readTable, tableRoot } from "../../lake/tables.ts";
import type { Snapshot } from "../../lake/delta/replay.ts";
import { createSnapshotView } from "../../lake/delta/read.ts";
import type { StageContext, StageOutcome } from "../context.ts";
import { registerInputs } from "../inputs.ts";
import { type PublishedQuery, publishQuery } from "../publish-query.ts";
import { summariseDedup } from "./summary.ts";

export function dedupParamsPath(stage: string): string {
  return lakePath("_mallard", "state", "dedup", `${stage}.params.json`);
}

export async function runSilverDedup(ctx: StageContext<SilverDedup>): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  return ctx.engine.withConnection(async (con) => {
    const inputs = await registerInputs(con, lake, { pipeline: ctx.pipeline.name, stage: stage.name }, stage.inputs);
    // A full refresh relinks every record (with the saved model, which is retrained only when the
    // comparisons changed), but reads the last entities so that clusters which come out the same keep
    // their ids: downstream tables join on them.
    const last = await previousRun(con, ctx);
    const previous = ctx.fullRefresh && last ? { params: last.params, entities: last.entities } : last;
    const prefix = `dedup_${stage.name}`;
    // The working tables stay until the run report's summary has read the scored pairs from them.
    const result = await runDedup(con, {
      input: stage.from.name,
      spec: stage.spec,
      prefix,
      stage: stage.name,
      previous,
      relinkAll: ctx.fullRefresh,
      keepIntermediate: true,
    });
    const m = result.metrics;
    // The summary only explains the run: if it cannot be made, the run goes on without it.
    const dedup = await summariseDedup(con, stage, { input: stage.from.name, scored: `${prefix}__scored`, links: result.tables.links, entities: result.tables.entities },
      { records: m.records, candidatePairs: m.candidatePairs, links: m.links, entities: m.entities })
      .catch((e: unknown) => void ctx.log(`dedup summary for the run report skipped: ${describeError(e)}`));
    for (const table of tableNames(prefix).intermediate) await con.run(`DROP TABLE IF EXISTS ${table}`);
    const outputs = [
      { table: result.tables.deduped, name: stage.name },
      { table: result.tables.links, name: `${stage.name}__links` },
      { table: result.tables.entities, name: `${stage.name}__entities` },
    ];
    let bytes = 0;
    let main: PublishedQuery | undefined;
    // The entities and links go first: when the deduplicated table is visible, its explanation is too.
    for (const output of outputs.reverse()) {
      const published = await publishQuery(con, ctx, tableRoot("silver", output.name), `SELECT * FROM ${quoteIdent(output.table)}`, inputs);
      bytes += published.bytes;
      if (output.name === stage.name) main = published;
    }
    // Parameters trained on older inputs than the published tables' would not match them: kept only with them.
    if (!main!.steppedAside) await lake.writeJson(dedupParamsPath(stage.name), result.params);
    return {
      rowsIn: m.records, rowsOut: main!.rows, bytes, version: main!.version, dedup: dedup ?? undefined,
      note: `${m.entities.toLocaleString("en-US")} entities from ${m.records.toLocaleString("en-US")} records, ${m.links.toLocaleString("en-US")} links${m.trained ? ", trained" : ""}` +
        (main!.steppedAside ? `; stepped aside: ${main!.steppedAside}` : ""),
    };
  });
}

/** The last run's parameters, entities and links: ids stay stable, training can be skipped, and an
 * incremental run keeps the links that explain the entities it carries over. */
async function previousRun(
  con: DuckDBConnection,
  ctx: StageContext<SilverDedup>,
): Promise<{ params?: DedupParams; entities?: string; links?: string } | undefined> {
  const params = (await ctx.lake.readJson<DedupParams>(dedupParamsPath(ctx.stage.name)))?.value;
  const root = (suffix: "entities" | "links") => tableRoot("silver", `${ctx.stage.name}__${suffix}`);
  const view = async (suffix: "entities" | "links", snapshot: Snapshot): Promise<string> => {
    const name = `previous_${ctx.stage.name}_${suffix}`;
    await createSnapshotView(con, ctx.lake, snapshot, name);
    return name;
  };
  const links = await readTable(ctx.lake, con, root("links"));
  // The entities are published first: a run that died before publishing its links left entities newer
  // than the links that explain them. Read the entities of the run the links came from.
  const entities = links && await versionOfRun(con, ctx, root("entities"), lineageOf(links)?.runId);
  if (!entities || !links) return params ? { params } : undefined;
  return { params, entities: await view("entities", entities), links: await view("links", links) };
}

/** The newest version of a table that `runId` published (undefined when none is left). */
async function versionOfRun(con: DuckDBConnection, ctx: StageContext<SilverDedup>, root: string, runId: string | undefined): Promise<Snapshot | undefined> {
  const latest = await readTable(ctx.lake, con, root);
  for (let version = latest?.version ?? -1; version >= 0 && latest; version--) {
    const snapshot = version === latest.version ? latest : await readTable(ctx.lake, con, root, { version }).catch(() => undefined);
    if (!snapshot) return undefined; // older versions vacuumed or checkpointed away
    if (lineageOf(snapshot)?.runId === runId) return snapshot;
  }
  return undefined;
}
