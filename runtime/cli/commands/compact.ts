// `mallard compact`: rewrite each bronze partition's small files into larger ones (published tables
// are one file per version already). One commit per rewritten group, `dataChange: false`, so readers
// see the same rows; a group a concurrent commit changed is left alone. Idempotent.

import { compactTable } from "../../lake/delta/compact.ts";
import { bronzeCompaction } from "../../stages/bronze-table/log.ts";
import { formatBytes, type MaintenanceOptions, withMaintenance } from "./maintain.ts";

export interface CompactOptions extends MaintenanceOptions {
  smallFileMb: number;
  targetFileMb: number;
}

export async function compactCommand(options: CompactOptions): Promise<number> {
  return withMaintenance(options, async ({ lake, con, engine, tables }) => {
    for (const table of tables) {
      if (table.stage.kind !== "bronze.table") continue;
      const result = await compactTable(lake, con, table.root, {
        workDir: engine.workDir,
        smallFileBytes: options.smallFileMb * 1024 * 1024,
        targetFileBytes: options.targetFileMb * 1024 * 1024,
        ...bronzeCompaction,
      });
      if (!result) continue;
      process.stdout.write(
        `${table.name.padEnd(32)} ${result.commits ? `${result.removed} files into ${result.added}` : "nothing to compact"}` +
          `${result.skipped ? ` (${result.skipped} groups changed by a concurrent commit, left alone)` : ""}` +
          ` (files under ${formatBytes(options.smallFileMb * 1024 * 1024)})\n`,
      );
    }
    return 0;
  });
}
