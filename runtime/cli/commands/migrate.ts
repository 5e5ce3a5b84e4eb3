// `mallard migrate`: convert every table of the pipeline still in an earlier layout (a `_current.json`
// pointer per published table) into a Delta table, in place and without deleting a file a reader may
// still use. Runs also happen on first use of each table; this does the whole lake at once. Idempotent.

import { migratePublishedTable } from "../../lake/migrate.ts";
import { type MaintenanceOptions, withMaintenance } from "./maintain.ts";

export async function migrateCommand(options: MaintenanceOptions): Promise<number> {
  return withMaintenance(options, async ({ lake, con, tables }) => {
    let converted = 0;
    for (const table of tables) {
      if (table.stage.kind === "bronze.table") continue;
      if (await migratePublishedTable(lake, con, table.root)) {
        converted++;
        process.stdout.write(`${table.name}: converted to a Delta table (version 0)\n`);
      }
    }
    process.stdout.write(converted ? `converted ${converted} tables\n` : "every table is already a Delta table\n");
    return 0;
  });
}
