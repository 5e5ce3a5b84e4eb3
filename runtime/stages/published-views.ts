// The views of a published (silver or gold) table: its current version, and the companion tables
// published beside it (a dedup's `__entities` and `__links`), each as `<view><suffix>`.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Stage } from "../declare/stages.ts";
import { StageError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import type { AsOf } from "../lake/delta/replay.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import type { InputReader, InputViews } from "./kind.ts";

export function publishedViews<S extends Stage>(companions: readonly string[] = []): InputViews<S> {
  return {
    companions,
    async register(con: DuckDBConnection, lake: Lake, view: string, input: S, reader: InputReader, asOf?: AsOf): Promise<InputVersions> {
      // The Delta reader loads DuckDB: imported here, when a model runs, not when the registry is read.
      const { readTable, tableRoot } = await import("../lake/tables.ts");
      const { createSnapshotView } = await import("../lake/delta/read.ts");
      const tables = [["", input.name], ...companions.map((suffix) => [suffix, `${input.name}${suffix}`])];
      const versions: Record<string, number> = {};
      for (const [suffix, table] of tables) {
        const root = tableRoot(input.layer, table);
        const snapshot = await readTable(lake, con, root, asOf);
        if (!snapshot) throw new StageError(`stage "${reader.stage}": input "${table}" has not been published yet (run it first)`);
        // Delta versions of a table only grow: they order what two readers saw.
        versions[root] = snapshot.version;
        await createSnapshotView(con, lake, snapshot, view + suffix);
      }
      return versions;
    },
  };
}
