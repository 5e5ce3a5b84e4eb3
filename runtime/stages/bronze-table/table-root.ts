// Which lake folder holds a pipeline's bronze table. New tables are keyed by pipeline and stage
// (paths.ts keyedBronzeRoot), so two pipelines on one lake with a bronze stage of the same name each load
// every row and keep their own checkpoint. A table a lake already has in the earlier layout
// (`bronze/<source>/<stage>`, a Delta log or a state manifest still to convert) stays where it is: its
// owning pipeline keeps reading and loading it (nothing moved, nothing reloaded) and any other pipeline
// gets a keyed table of its own. Which pipeline owns an old table is decided once, from the table's own
// batches (the pipeline whose run record names its earliest batch's run), and written down as a
// put-if-absent marker, so every reader, writer and process agrees from then on. Why in place rather
// than moved: docs/decisions.md ("Bronze tables keyed by pipeline").

import type { BronzeTable } from "../../declare/stages.ts";
import { type Lake, lakePath, PreconditionFailed } from "../../lake/lake.ts";
import { logPath } from "../../lake/delta/actions.ts";
import { type BronzeState, legacyStatePath } from "../../state/bronze-state.ts";
import { keyedBronzeRoot, legacyBronzeRoot } from "./paths.ts";

/** Which pipeline keeps a table of the earlier layout. */
export interface LegacyOwner {
  readonly pipeline: string;
  readonly decidedAt: string;
  /** How it was decided, for an operator reading the marker. */
  readonly reason: string;
}

/** The marker naming the pipeline that keeps `bronze/<source>/<stage>`. */
export function legacyOwnerPath(stage: BronzeTable): string {
  return lakePath("_mallard", "state", "bronze-owners", stage.source.name, `${stage.name}.json`);
}

// Settled answers only (a marker exists, or the keyed table does): neither ever changes, so a long-lived
// Functions host asks the lake once per table.
const settled = new WeakMap<Lake, Map<string, string>>();

/** The folder of `pipeline`'s table for `stage`. */
export async function bronzeTableRoot(lake: Lake, pipeline: string, stage: BronzeTable): Promise<string> {
  const key = `${pipeline}\u0000${stage.source.name}\u0000${stage.name}`;
  const cache = settled.get(lake) ?? new Map<string, string>();
  settled.set(lake, cache);
  const known = cache.get(key);
  if (known) return known;
  const keyed = keyedBronzeRoot(pipeline, stage);
  const legacy = legacyBronzeRoot(stage);
  const settle = (root: string) => (cache.set(key, root), root);
  if (await hasObjectUnder(lake, logPath(keyed))) return settle(keyed);
  const marker = await lake.readJson<LegacyOwner>(legacyOwnerPath(stage));
  if (marker) return settle(marker.value.pipeline === pipeline ? legacy : keyed);
  const manifest = (await lake.readJson<BronzeState>(legacyStatePath(stage.name)))?.value;
  if (!manifest && !(await hasObjectUnder(lake, logPath(legacy)))) return keyed; // a new table: not settled until it has a log
  const owner = await decideOwner(lake, pipeline, legacy, manifest);
  try {
    await lake.writeJson(legacyOwnerPath(stage), owner, { ifMatch: null });
    return settle(owner.pipeline === pipeline ? legacy : keyed);
  } catch (e) {
    // Another process decided first: follow its marker. A lake that refuses the write (read-only
    // credentials) still gets the same answer, decided again on the next call.
    if (!(e instanceof PreconditionFailed)) return owner.pipeline === pipeline ? legacy : keyed;
    const theirs = (await lake.readJson<LegacyOwner>(legacyOwnerPath(stage)))!.value;
    return settle(theirs.pipeline === pipeline ? legacy : keyed);
  }
}

/**
 * The pipeline whose run loaded the old table's earliest batch (run records are kept per pipeline,
 * `_mallard/runs/<pipeline>/<run>.json`). A table whose runs have no record anywhere goes to the pipeline
 * asking: on a lake with one pipeline, the only one.
 */
async function decideOwner(lake: Lake, pipeline: string, legacy: string, manifest: BronzeState | undefined): Promise<LegacyOwner> {
  const decidedAt = new Date().toISOString();
  const state = manifest ?? (await latestStateFile(lake, legacy));
  const runs = [...new Set((state?.batches ?? []).map((b) => b.runId))];
  if (runs.length) {
    const pipelineOf = new Map<string, string>();
    for await (const object of lake.list(lakePath("_mallard", "runs"))) {
      const m = /^_mallard\/runs\/([^/]+)\/([^/]+)\.json$/.exec(object.path);
      if (m) pipelineOf.set(m[2], m[1]);
    }
    const first = runs.find((run) => pipelineOf.has(run));
    if (first) return { pipeline: pipelineOf.get(first)!, decidedAt, reason: `run ${first} of pipeline ${pipelineOf.get(first)} loaded its earliest recorded batch` };
  }
  return { pipeline, decidedAt, reason: "no run record names its batches: kept by the first pipeline to read it" };
}

/** The newest state file a bronze commit wrote (`<table>/_mallard/state/<batches>-<uuid>.json`): it lists every batch. */
async function latestStateFile(lake: Lake, root: string): Promise<BronzeState | undefined> {
  let newest: { count: number; path: string } | undefined;
  for await (const object of lake.list(lakePath(root, "_mallard", "state"))) {
    const m = /\/(\d+)-[^/]+\.json$/.exec(object.path);
    if (m && (!newest || Number(m[1]) > newest.count)) newest = { count: Number(m[1]), path: object.path };
  }
  return newest ? (await lake.readJson<BronzeState>(newest.path))?.value : undefined;
}

async function hasObjectUnder(lake: Lake, prefix: string): Promise<boolean> {
  for await (const _ of lake.list(prefix)) return true;
  return false;
}
