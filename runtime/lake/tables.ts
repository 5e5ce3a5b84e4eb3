// Published tables (silver, gold, quarantine): each version is a folder of Parquet files that becomes
// visible in one conditional write of the table's `_current.json` pointer. Readers that go through the
// pointer never see a partial or mixed version; a crash before the pointer write leaves the old one.
// Whether a publish may replace the current version is decided by mayPublish (publish-guard.ts).

import { crashPoint } from "../faults.ts";
import { type Lake, lakePath, PreconditionFailed, sortableId, sortableIdTime } from "./lake.ts";
import { type InputVersions, mayPublish, TaskAbandoned } from "./publish-guard.ts";

export interface TableColumn {
  readonly name: string;
  readonly type: string;
}

/** The `_current.json` pointer: what a reader needs to read the current version. */
export interface TableVersion {
  readonly table: string;
  readonly version: string;
  /** Lake paths of the version's Parquet files. */
  readonly files: readonly string[];
  readonly rows: number;
  readonly bytes: number;
  readonly columns: readonly TableColumn[];
  readonly runId: string;
  /** The versions of the inputs this version was computed from (absent in pointers written before they were recorded). */
  readonly inputs?: InputVersions;
  /** 1 for the first version, one more for each next: what a reader of this table records as its input version. */
  readonly sequence?: number;
  readonly publishedAt: string;
  /** The version this one replaced, kept until the retention sweep. */
  readonly previous?: string;
  /** Published versions kept for readers in flight, newest first (`previous` among them). */
  readonly kept?: readonly string[];
}

/** Versions kept besides the current one, so readers that started on an older one can finish. */
const KEEP_PREVIOUS = 2;

export const POINTER = "_current.json";

/** `silver/orders_clean`, `gold/daily_revenue`, `silver/orders_clean__quarantine`. */
export function tableRoot(layer: string, name: string): string {
  return lakePath(layer, name);
}

export async function readCurrent(lake: Lake, root: string): Promise<TableVersion | undefined> {
  return (await lake.readJson<TableVersion>(lakePath(root, POINTER)))?.value;
}

export interface PublishInput {
  readonly root: string;
  readonly runId: string;
  /** Local Parquet files of the new version, in order. */
  readonly localFiles: readonly string[];
  readonly rows: number;
  readonly columns: readonly TableColumn[];
  /** Version id (time-sortable). @default a new one: the moment the publish starts */
  readonly version?: string;
  /** The versions of the inputs the files were computed from. @default none: ordered by run only */
  readonly inputs?: InputVersions;
  /** Whether the publishing task still holds its run; asked right before the pointer write. @default always */
  readonly holdsTask?: () => Promise<boolean>;
}

export type PublishResult =
  | { readonly published: true; readonly version: TableVersion }
  /** Stepped aside for a current version computed from newer inputs; `current` is that version. */
  | { readonly published: false; readonly reason: string; readonly current: TableVersion };

/**
 * Upload the files into a new version folder, then swing the pointer with an ETag condition. A publish
 * whose inputs are older than the current version's steps aside (its folder is removed), so stale data
 * never replaces fresher data whatever order the publishes finish in; a task that no longer holds its
 * run throws TaskAbandoned and publishes nothing.
 */
export async function publishTable(lake: Lake, input: PublishInput): Promise<PublishResult> {
  const version = input.version ?? sortableId();
  const files: string[] = [];
  let bytes = 0;
  for (const [i, local] of input.localFiles.entries()) {
    const uploaded = await lake.putFile(local, lakePath(input.root, `v${version}`, `part-${String(i).padStart(5, "0")}.parquet`));
    files.push(uploaded.path);
    bytes += uploaded.size;
  }
  crashPoint("publish:before-pointer");
  const pointerPath = lakePath(input.root, POINTER);
  const inputs = input.inputs ?? {};
  for (;;) {
    const current = await lake.readJson<TableVersion>(pointerPath);
    const active = input.holdsTask ? await input.holdsTask() : true;
    const verdict = mayPublish(current && { runId: current.value.runId, inputs: current.value.inputs ?? {} }, { runId: input.runId, inputs, active });
    if (!verdict.go) {
      for (const path of files) await lake.delete(path);
      if (verdict.outcome === "abandoned") throw new TaskAbandoned(`${input.root}: ${verdict.reason}`);
      return { published: false, reason: verdict.reason, current: current!.value };
    }
    const next: TableVersion = {
      table: input.root,
      version,
      files,
      rows: input.rows,
      bytes,
      columns: input.columns,
      runId: input.runId,
      inputs,
      sequence: (current?.value.sequence ?? 0) + 1,
      publishedAt: new Date().toISOString(),
      previous: current?.value.version,
      kept: current ? [current.value.version, ...(current.value.kept ?? [])].slice(0, KEEP_PREVIOUS) : [],
    };
    try {
      await lake.writeJson(pointerPath, next, { ifMatch: current ? current.etag : null });
      // Best effort; a version a failed sweep left behind goes with the grace period.
      await sweepOldVersions(lake, next, current?.value).catch(() => undefined);
      return { published: true, version: next };
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) throw e;
    }
  }
}

/** A version folder no pointer names is removed once this old: long after any publish could still be uploading into it. */
const ORPHAN_GRACE_MS = 6 * 3_600_000;

/**
 * Delete version folders readers no longer need: the version that dropped out of the kept list with
 * this publish, and folders no pointer kept that are older than the grace period (publishes that crashed
 * before their pointer write). A folder of a publish still uploading is never touched, whatever its id:
 * ids order publishes by start, not by the data they hold.
 */
async function sweepOldVersions(lake: Lake, current: TableVersion, replaced: TableVersion | undefined): Promise<void> {
  const keep = new Set([current.version, ...(current.kept ?? [])]);
  const dropped = new Set([replaced?.version, ...(replaced?.kept ?? [])].filter((v): v is string => v !== undefined && !keep.has(v)));
  const cutoff = Date.now() - ORPHAN_GRACE_MS;
  for await (const object of lake.list(current.table)) {
    const version = /^v([^/]+)\//.exec(object.path.slice(current.table.length + 1))?.[1];
    if (version === undefined || keep.has(version)) continue;
    if (dropped.has(version) || sortableIdTime(version) < cutoff) await lake.delete(object.path);
  }
}
