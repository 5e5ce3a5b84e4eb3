// Published tables (silver, gold, quarantine): each version is a folder of Parquet files that becomes
// visible in one conditional write of the table's `_current.json` pointer. Readers that go through the
// pointer never see a partial or mixed version; a crash before the pointer write leaves the old one.

import { crashPoint } from "../faults.ts";
import { type Lake, lakePath, PreconditionFailed, sortableId } from "./lake.ts";

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
}

/**
 * Upload the files into a new version folder, then swing the pointer with an ETag condition. When a
 * newer version was published meanwhile (an overlapping run that started later), this one steps aside:
 * its folder is removed and the current version returned, so stale data never replaces fresher data.
 */
export async function publishTable(lake: Lake, input: PublishInput): Promise<TableVersion> {
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
  for (;;) {
    const current = await lake.readJson<TableVersion>(pointerPath);
    if (current && current.value.version > version) {
      for (const path of files) await lake.delete(path);
      return current.value;
    }
    const next: TableVersion = {
      table: input.root,
      version,
      files,
      rows: input.rows,
      bytes,
      columns: input.columns,
      runId: input.runId,
      publishedAt: new Date().toISOString(),
      previous: current?.value.version,
      kept: current ? [current.value.version, ...(current.value.kept ?? [])].slice(0, KEEP_PREVIOUS) : [],
    };
    try {
      await lake.writeJson(pointerPath, next, { ifMatch: current ? current.etag : null });
      await sweepOldVersions(lake, next).catch(() => undefined); // best effort; the next publish sweeps again
      return next;
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) throw e;
    }
  }
}

/**
 * Delete version folders older than the current one that are not kept for readers in flight: superseded
 * versions and folders of publishes that crashed before their pointer write. Newer folders belong to
 * publishes still in flight and are left alone.
 */
async function sweepOldVersions(lake: Lake, current: TableVersion): Promise<void> {
  const keep = new Set([current.version, ...(current.kept ?? [])]);
  for await (const object of lake.list(current.table)) {
    const version = /^v([^/]+)\//.exec(object.path.slice(current.table.length + 1))?.[1];
    if (version !== undefined && version < current.version && !keep.has(version)) await lake.delete(object.path);
  }
}
