// Declaration side shared by `silver.model` and `gold.model`: the YAML form (`{ silver: clean, from: …,
// sql: …, checks: […] }`) with its checks, the inputs, and the sql-or-transform rule.

import { z } from "zod";
import { check, type Check, type Severity } from "../checks.ts";
import type { Duration } from "../duration.ts";
import type { GoldModel, ModelArgs, SilverModel, Stage } from "../stages.ts";
import { columns, duration, name } from "../yaml-fields.ts";
import { yamlForm, type DeclaredKind } from "./kind.ts";

const severity = z.enum(["warn", "drop", "fail"]).optional();
const notifyAbove = z.number().int().min(0).optional();
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const checkSchema = z.union([
  z.strictObject({ notNull: z.string(), severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ unique: columns, severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ acceptedValues: z.strictObject({ column: z.string(), values: z.array(scalar).min(1) }), severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ range: z.strictObject({ column: z.string(), min: z.union([z.number(), z.string()]).optional(), max: z.union([z.number(), z.string()]).optional() }), severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ rowCount: z.strictObject({ min: z.number().int().optional(), max: z.number().int().optional() }), severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ freshness: z.strictObject({ column: z.string(), maxAge: duration }), severity, notifyAbove, name: z.string().optional() }),
  z.strictObject({ sql: z.string(), name: z.string(), severity, notifyAbove }),
  z.strictObject({ expect: z.string(), name: z.string(), severity, notifyAbove }),
]);
type CheckEntry = z.infer<typeof checkSchema>;

const modelFields = {
  from: z.union([z.string(), z.array(z.string()).min(1), z.record(z.string(), z.string())]),
  sql: z.string(),
  checks: z.array(checkSchema).optional(),
  primaryKey: columns.optional(),
};
type ModelEntry = z.output<z.ZodObject<typeof modelFields>>;

/** The declaration side of a model kind whose YAML key is `key` (`silver`, `gold`), built by `build`. */
export function modelKind<S extends SilverModel | GoldModel>(key: string, build: (name: string, args: ModelArgs) => S): DeclaredKind<S> {
  // The name field comes first, as in `{ silver: clean, from: … }`, so messages list problems in that order.
  const schema = z.strictObject({ [key]: name, ...modelFields }) as unknown as z.ZodType<ModelEntry & Readonly<Record<string, unknown>>>;
  return {
    yaml: yamlForm({
      key,
      schema,
      build(entry, yaml) {
        const modelName = entry[key] as string;
        const names: Record<string, string> =
          typeof entry.from === "string" ? { [entry.from]: entry.from }
          : Array.isArray(entry.from) ? Object.fromEntries(entry.from.map((n) => [n, n]))
          : entry.from;
        const inputs: Record<string, Stage> = {};
        for (const [view, input] of Object.entries(names)) {
          const stage = yaml.input(input, `stage "${modelName}": from.${view}`);
          if (stage) inputs[view] = stage;
        }
        return build(modelName, { from: inputs, sql: entry.sql, checks: (entry.checks ?? []).map(toCheck), primaryKey: entry.primaryKey });
      },
    }),
    inputs: (stage) => stage.inputs,
    check(stage) {
      if (!stage.sql && !stage.transform) return [`stage "${stage.name}": sql: a model needs sql or transform`];
      if (stage.sql && stage.transform) return [`stage "${stage.name}": sql: give sql or transform, not both`];
      return [];
    },
    schedule: () => undefined,
  };
}

function toCheck(entry: CheckEntry): Check {
  const options = { severity: entry.severity as Severity | undefined, name: entry.name, notifyAbove: entry.notifyAbove };
  if ("notNull" in entry) return check.notNull(entry.notNull, options);
  if ("unique" in entry) return check.unique(entry.unique, options);
  if ("acceptedValues" in entry) return check.acceptedValues(entry.acceptedValues.column, entry.acceptedValues.values, options);
  if ("range" in entry) return check.range(entry.range.column, entry.range, options);
  if ("rowCount" in entry) return check.rowCount(entry.rowCount, options);
  if ("freshness" in entry) return check.freshness(entry.freshness.column, entry.freshness.maxAge as Duration, options);
  if ("sql" in entry) return check.sql(entry.name, entry.sql, { severity: options.severity, notifyAbove: options.notifyAbove });
  return check.expect(entry.name, entry.expect, { severity: options.severity, notifyAbove: options.notifyAbove });
}
