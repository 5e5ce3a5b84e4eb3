// Declaration side of `bronze.table`: its YAML form (`{ bronze: orders, source: shop, table: … }`, or
// `endpoint: /orders` for a REST source, `files: "orders/*.csv"` for a file drop), no inputs, and its own
// schedule. The type and builders are in ../stages.ts; the run side in runtime/stages/bronze-table/, the
// resources in infra/stages/bronze-table.ts.

import { z } from "zod";
import type { Duration } from "../duration.ts";
import { FILES_ONLY, filesArgs, filesFields } from "../files-yaml.ts";
import { filesProblems } from "../files.ts";
import { ENDPOINT_ONLY, endpointArgs, endpointFields } from "../rest-yaml.ts";
import { bronze, type BronzeTable, type Partitioning } from "../stages.ts";
import { columns, duration, name } from "../yaml-fields.ts";
import { yamlForm, type DeclaredKind } from "./kind.ts";
import { checkSchedule } from "../pipeline.ts";

const schema = z.strictObject({
  bronze: name,
  source: z.string(),
  table: z.string().optional(),
  ...endpointFields,
  ...filesFields,
  primaryKey: columns,
  /** Per-column storage overrides: `columns: { int_matrix: text }`. */
  columns: z.record(z.string(), z.literal("text")).optional(),
  partitions: z.union([
    z.strictObject({ kind: z.literal("range"), column: z.string(), step: z.union([z.number().positive(), duration]), tasks: z.number().int().min(2).optional() }),
    z.strictObject({ kind: z.literal("chunks"), column: z.string(), count: z.number().int().min(2) }),
  ]).optional(),
  schedule: z.string().optional(),
  reconcile: z.union([z.literal("afterLoad"), z.strictObject({ schedule: z.string().optional(), columns: columns.optional() })]).optional(),
});


export const bronzeTable: DeclaredKind<BronzeTable> = {
  yaml: yamlForm({
    key: "bronze",
    schema,
    build(entry, yaml) {
      const from = yaml.source(entry.source, entry.bronze);
      if (!from) return undefined;
      const stage = `stage "${entry.bronze}"`;
      const common = { name: entry.bronze, primaryKey: entry.primaryKey, schedule: entry.schedule, columns: entry.columns, reconcile: entry.reconcile };
      if (from.kind === "files") {
        const wrong = [...(entry.table !== undefined ? ["table"] : []), ...(entry.endpoint !== undefined ? ["endpoint"] : []), ...(entry.incremental ? ["incremental"] : []),
          ...(entry.partitions ? ["partitions"] : []), ...(entry.deletes ? ["deletes"] : []), ...ENDPOINT_ONLY.filter((f) => f !== "types" && entry[f] !== undefined)];
        if (wrong.length) return yaml.problem(`${stage}: ${wrong.join(", ")}: not for a file pattern (source "${entry.source}" is a file drop: files loads new files once each, load: full reloads them all)`), undefined;
        if (entry.files === undefined) return yaml.problem(`${stage}: files: missing (source "${entry.source}" is a file drop: name a pattern such as "orders/*.csv")`), undefined;
        return bronze.files(from, filesArgs({ ...entry, files: entry.files }, common));
      }
      if (from.kind === "rest") {
        if (entry.endpoint === undefined) return yaml.problem(`${stage}: endpoint: source "${entry.source}" is a REST API: name an endpoint (endpoint: /orders)${entry.table ? ", not a table" : ""}`), undefined;
        if (entry.partitions) return yaml.problem(`${stage}: partitions: an endpoint cannot be split into partitions`), undefined;
        return bronze.endpoint(from, endpointArgs({ ...entry, endpoint: entry.endpoint }, common));
      }
      const misplaced = [
        ...(entry.endpoint !== undefined ? ["endpoint"] : []),
        ...ENDPOINT_ONLY.filter((f) => entry[f] !== undefined),
        ...FILES_ONLY.filter((f) => entry[f] !== undefined),
        ...(["param", "format", "ordered"] as const).filter((f) => entry.incremental?.[f] !== undefined).map((f) => `incremental.${f}`),
        ...(typeof entry.deletes === "object" ? ["deletes"] : []),
      ];
      if (misplaced.length) return yaml.problem(`${stage}: ${misplaced.join(", ")}: only for an endpoint of a REST source or a file pattern of a file drop; source "${entry.source}" is ${from.kind}`), undefined;
      if (entry.table === undefined) return yaml.problem(`${stage}: table: missing (source "${entry.source}" is a database)`), undefined;
      return bronze.table(from, {
        ...common, table: entry.table, deletes: entry.deletes as "keyScan" | undefined,
        incremental: entry.incremental && { cursor: entry.incremental.cursor, lookBack: entry.incremental.lookBack as Duration | undefined },
        partitions: entry.partitions as Partitioning | undefined,
      });
    },
  }),
  inputs: () => ({}),
  check: (stage) => [
    ...(stage.resource.kind === "files" ? filesProblems(stage.resource).map((p) => `stage "${stage.name}": ${p}`) : []),
    // A full load replaces the table each run: rows deleted in the source are gone with it.
    ...reconcileProblems(stage),
    ...(stage.deletes === "keyScan" && !stage.incremental ? [`stage "${stage.name}": deletes: keyScan is for incremental loads (a full load already drops deleted rows); add incremental or remove deletes`] : []),
  ],
  schedule: (stage) => stage.schedule,
};

/** A file drop holds exactly the files its ledger lists: there is nothing behind a cursor to drift. */
function reconcileProblems(stage: BronzeTable): string[] {
  const { reconcile } = stage;
  if (!reconcile) return [];
  const where = `stage "${stage.name}": reconcile`;
  if (stage.resource.kind === "files") return [`${where}: not for a file drop (bronze holds exactly the files its ledger lists)`];
  return [
    ...(reconcile.schedule === undefined ? [] : checkSchedule(reconcile.schedule).map((p) => `${where}.${p}`)),
    ...(reconcile.columns.some((c) => typeof c !== "string" || c === "") ? [`${where}.columns: expected column names`] : []),
  ];
}
