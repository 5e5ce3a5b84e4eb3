// Declaration side of `bronze.table`: its YAML form (`{ bronze: orders, source: shop, table: … }`), no
// inputs, and its own schedule. The type and builder are in ../stages.ts; the run side in
// runtime/stages/bronze-table/, the resources in infra/stages/bronze-table.ts.

import { z } from "zod";
import type { Duration } from "../duration.ts";
import { bronze, type BronzeTable, type Partitioning } from "../stages.ts";
import { columns, duration, name } from "../yaml-fields.ts";
import { yamlForm, type DeclaredKind } from "./kind.ts";

const schema = z.strictObject({
  bronze: name,
  source: z.string(),
  table: z.string(),
  primaryKey: columns,
  incremental: z.strictObject({ cursor: columns, lookBack: duration.optional() }).optional(),
  partitions: z.union([
    z.strictObject({ kind: z.literal("range"), column: z.string(), step: z.union([z.number().positive(), duration]), tasks: z.number().int().min(2).optional() }),
    z.strictObject({ kind: z.literal("chunks"), column: z.string(), count: z.number().int().min(2) }),
  ]).optional(),
  schedule: z.string().optional(),
});

export const bronzeTable: DeclaredKind<BronzeTable> = {
  yaml: yamlForm({
    key: "bronze",
    schema,
    build(entry, yaml) {
      const from = yaml.source(entry.source, entry.bronze);
      return from && bronze.table(from, {
        name: entry.bronze, table: entry.table, primaryKey: entry.primaryKey, schedule: entry.schedule,
        incremental: entry.incremental && { cursor: entry.incremental.cursor, lookBack: entry.incremental.lookBack as Duration | undefined },
        partitions: entry.partitions as Partitioning | undefined,
      });
    },
  }),
  inputs: () => ({}),
  check: () => [],
  schedule: (stage) => stage.schedule,
};
