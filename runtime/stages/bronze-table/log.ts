// How a bronze table is laid out as a Delta table: partitioned by `_load_date` (a name no source column
// may take), each file tagged with the load it came from, so readers order loads (the latest row per key
// comes from the newest load) even after compaction merged files.

import type { AddFile } from "../../lake/delta/actions.ts";

/** The partition column: the date (UTC) of the load. Prefixed so it never clashes with a source column. */
export const LOAD_DATE_COLUMN = "_load_date";

/** The column a deleted key's row carries (key-scan tombstones, an API's tombstone records): in the table of a stage with `deletes`. */
export const DELETED_COLUMN = "_mallard_deleted";

/** `add.tags` key: the time-sortable id of the load a file holds (the newest one, for a compacted file). */
export const LOAD_ID_TAG = "mallard.loadId";

/** The load a file holds, for ordering: its tag, else its name (load ids start file names). */
export function loadIdOf(add: AddFile): string {
  return add.tags?.[LOAD_ID_TAG] ?? add.path.split("/").pop() ?? add.path;
}

/** Compaction of bronze files: merged oldest load first, and the merged file counts as its newest load. */
export const bronzeCompaction = {
  order: (a: AddFile, b: AddFile) => (loadIdOf(a) < loadIdOf(b) ? -1 : loadIdOf(a) > loadIdOf(b) ? 1 : 0),
  tags: (replaced: readonly AddFile[]) => ({ [LOAD_ID_TAG]: replaced.map(loadIdOf).sort().at(-1)! }),
};
