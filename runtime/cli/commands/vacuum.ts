// `mallard vacuum`: delete files no table version inside the retention window references (default: the
// table's delta.deletedFileRetentionDuration, 7 days), including files of crashed loads and publishes.
// Safe beside a running pipeline; running it twice deletes nothing the second time.

import { ConfigError } from "../../errors.ts";
import { parseDuration } from "../../declare/duration.ts";
import { vacuumTable } from "../../lake/delta/vacuum.ts";
import { formatBytes, type MaintenanceOptions, withMaintenance } from "./maintain.ts";

export interface VacuumOptions extends MaintenanceOptions {
  retain?: string;
  dryRun: boolean;
}

export async function vacuumCommand(options: VacuumOptions): Promise<number> {
  const retentionMs = options.retain === undefined ? undefined : parseDuration(options.retain);
  if (options.retain !== undefined && retentionMs === undefined) throw new ConfigError([`--retain: "${options.retain}" is not a duration such as "7 days" or "36 hours"`]);
  return withMaintenance(options, async ({ lake, con, tables }) => {
    let files = 0;
    let bytes = 0;
    for (const table of tables) {
      const result = await vacuumTable(lake, con, table.root, { retentionMs, dryRun: options.dryRun });
      if (!result) continue;
      files += result.deleted.length;
      bytes += result.bytes;
      const days = (result.retentionMs / 86_400_000).toFixed(result.retentionMs % 86_400_000 ? 2 : 0);
      process.stdout.write(`${table.name.padEnd(32)} version ${String(result.version).padStart(4)}  ${options.dryRun ? "would delete" : "deleted"} ${result.deleted.length} files (${formatBytes(result.bytes)}), retention ${days} days\n`);
    }
    process.stdout.write(`${options.dryRun ? "would delete" : "deleted"} ${files} files, ${formatBytes(bytes)}\n`);
    return 0;
  });
}
