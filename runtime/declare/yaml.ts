// The YAML form of a pipeline: the same declarations, validated by a zod schema, then built with the
// same builders as the TypeScript form so both pass the same checks. Stages refer to inputs by name.

import { z } from "zod";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { check, type Check, type Severity } from "./checks.ts";
import { parseDuration, type Duration } from "./duration.ts";
import { pipeline, type Pipeline } from "./pipeline.ts";
import { secret } from "./secret.ts";
import { source, type Source } from "./sources.ts";
import { bronze, gold, silver, type Partitioning, type Stage } from "./stages.ts";
import { parseDedupArgs } from "./dedup.ts";
import { ConfigError } from "../errors.ts";

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "letters, digits and _, not starting with a digit");
const duration = z.string().refine((s) => parseDuration(s) !== undefined, "a duration such as \"10 minutes\"");
const columns = z.union([z.string(), z.array(z.string()).min(1)]);
const severity = z.enum(["warn", "drop", "fail"]).optional();
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const checkSchema = z.union([
  z.strictObject({ notNull: z.string(), severity, name: z.string().optional() }),
  z.strictObject({ unique: columns, severity, name: z.string().optional() }),
  z.strictObject({ acceptedValues: z.strictObject({ column: z.string(), values: z.array(scalar).min(1) }), severity, name: z.string().optional() }),
  z.strictObject({ range: z.strictObject({ column: z.string(), min: z.union([z.number(), z.string()]).optional(), max: z.union([z.number(), z.string()]).optional() }), severity, name: z.string().optional() }),
  z.strictObject({ rowCount: z.strictObject({ min: z.number().int().optional(), max: z.number().int().optional() }), severity, name: z.string().optional() }),
  z.strictObject({ freshness: z.strictObject({ column: z.string(), maxAge: duration }), severity, name: z.string().optional() }),
  z.strictObject({ sql: z.string(), name: z.string(), severity }),
  z.strictObject({ expect: z.string(), name: z.string(), severity }),
]);

const modelFields = {
  from: z.union([z.string(), z.array(z.string()).min(1), z.record(z.string(), z.string())]),
  sql: z.string(),
  checks: z.array(checkSchema).optional(),
  primaryKey: columns.optional(),
};

const stageSchema = z.union([
  z.strictObject({
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
  }),
  z.strictObject({ silver: name, ...modelFields }),
  z.strictObject({ gold: name, ...modelFields }),
  // The dedup args have their own schema (runtime/declare/dedup.ts), applied when the stage is built.
  z.looseObject({ dedup: name }),
]);

const sourceSchema = z.strictObject({
  kind: z.literal("postgres"),
  connection: z.union([z.string(), z.strictObject({ secret: z.string().regex(/^[A-Za-z0-9-]+$/, "letters, digits and dashes") })]),
  chunkRows: z.number().int().positive().optional(),
});

export const pipelineFileSchema = z.strictObject({
  name,
  schedule: z.string(),
  engine: z.strictObject({ memoryLimit: z.string().optional(), threads: z.number().int().positive().optional(), tempDirectory: z.string().optional() }).optional(),
  sources: z.record(z.string(), sourceSchema),
  stages: z.array(stageSchema).min(1),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;
type AnyEntry = PipelineFile["stages"][number];
type DedupEntry = Extract<AnyEntry, { dedup: string }>;
/** Bronze, silver and gold entries (their keys narrow with `in`, which dedup's open shape would defeat). */
type StageEntry = Exclude<AnyEntry, DedupEntry>;
const isDedup = (e: AnyEntry): e is DedupEntry => typeof (e as { dedup?: unknown }).dedup === "string";
type CheckEntry = z.infer<typeof checkSchema>;

/** Parse and validate YAML text; `file` names it in messages. */
export function pipelineFromYaml(text: string, file: string): Pipeline {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}` : "";
    throw new ConfigError([`${file}${where}: not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  const parsed = pipelineFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${file}: ${describeIssue(raw, issue)}`));
  return buildPipeline(parsed.data, file);
}

/** `stage "orders": incremental.cursor: expected …`, or the plain path outside stages. */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (path[0] === "stages" && path.length >= 2) {
    const entry = (raw as { stages?: Record<string, Record<string, unknown>>[] }).stages?.[Number(path[1])];
    const stageName = entry && (entry.bronze ?? entry.silver ?? entry.gold ?? entry.dedup);
    const field = path.slice(2).join(".") || "(stage)";
    const label = typeof stageName === "string" ? `stage "${stageName}"` : `stages[${path[1]}]`;
    return `${label}: ${field}: ${issueMessage(issue)}`;
  }
  return `${path.join(".") || "(top level)"}: ${issueMessage(issue)}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_union") return "not one of the accepted forms (a stage is { bronze: … }, { silver: … }, { gold: … } or { dedup: … }; see the README)";
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return issue.message;
}

function buildPipeline(file: PipelineFile, fileName: string): Pipeline {
  const problems: string[] = [];
  const sources = new Map<string, Source>(
    Object.entries(file.sources).map(([n, s]) => [
      n,
      source.postgres(n, { connection: typeof s.connection === "string" ? s.connection : secret(s.connection.secret), chunkRows: s.chunkRows }),
    ]),
  );
  const built = new Map<string, Stage>();
  const entryName = (e: AnyEntry) => (isDedup(e) ? e.dedup : "bronze" in e ? e.bronze : "silver" in e ? e.silver : e.gold);
  const entries = new Map(file.stages.map((e) => [entryName(e), e]));
  const building = new Set<string>();

  const build = (stageName: string, from: string): Stage | undefined => {
    const done = built.get(stageName);
    if (done) return done;
    const entry = entries.get(stageName);
    if (!entry) {
      problems.push(`${fileName}: ${from}: unknown input "${stageName}" (stages: ${[...entries.keys()].join(", ")})`);
      return undefined;
    }
    if (building.has(stageName)) {
      problems.push(`${fileName}: stage "${stageName}": from: cycle through "${stageName}"`);
      return undefined;
    }
    building.add(stageName);
    const stage = buildStage(entry);
    building.delete(stageName);
    if (stage) built.set(stageName, stage);
    return stage;
  };

  const buildStage = (any: AnyEntry): Stage | undefined => {
    if (isDedup(any)) {
      const { dedup: dedupName, ...raw } = any;
      let args;
      try {
        args = parseDedupArgs(dedupName, raw);
      } catch (e) {
        if (e instanceof ConfigError) problems.push(...e.problems.map((p) => `${fileName}: ${p}`));
        else throw e;
        return undefined;
      }
      const from = build(args.from, `stage "${dedupName}": from`);
      return from && silver.dedup(dedupName, { ...args, from });
    }
    const entry = any as StageEntry;
    if ("bronze" in entry) {
      const src = sources.get(entry.source);
      if (!src) {
        problems.push(`${fileName}: stage "${entry.bronze}": source: unknown source "${entry.source}" (sources: ${[...sources.keys()].join(", ") || "none"})`);
        return undefined;
      }
      return bronze.table(src, {
        name: entry.bronze, table: entry.table, primaryKey: entry.primaryKey, schedule: entry.schedule,
        incremental: entry.incremental && { cursor: entry.incremental.cursor, lookBack: entry.incremental.lookBack as Duration | undefined },
        partitions: entry.partitions as Partitioning | undefined,
      });
    }
    const modelName = "silver" in entry ? entry.silver : entry.gold;
    const names: Record<string, string> =
      typeof entry.from === "string" ? { [entry.from]: entry.from }
      : Array.isArray(entry.from) ? Object.fromEntries(entry.from.map((n) => [n, n]))
      : entry.from;
    const inputs: Record<string, Stage> = {};
    for (const [view, input] of Object.entries(names)) {
      const stage = build(input, `stage "${modelName}": from.${view}`);
      if (stage) inputs[view] = stage;
    }
    const args = { from: inputs, sql: entry.sql, checks: (entry.checks ?? []).map(toCheck), primaryKey: entry.primaryKey };
    return "silver" in entry ? silver.model(modelName, args) : gold.model(modelName, args);
  };

  const stages = [...entries.keys()].map((n) => build(n, `stage "${n}"`)).filter((s): s is Stage => s !== undefined);
  if (problems.length) throw new ConfigError([...new Set(problems)]);
  try {
    return pipeline(file.name, { schedule: file.schedule, stages, engine: file.engine });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => `${fileName}: ${p}`));
    throw e;
  }
}

function toCheck(entry: CheckEntry): Check {
  const options = { severity: entry.severity as Severity | undefined, name: entry.name };
  if ("notNull" in entry) return check.notNull(entry.notNull, options);
  if ("unique" in entry) return check.unique(entry.unique, options);
  if ("acceptedValues" in entry) return check.acceptedValues(entry.acceptedValues.column, entry.acceptedValues.values, options);
  if ("range" in entry) return check.range(entry.range.column, entry.range, options);
  if ("rowCount" in entry) return check.rowCount(entry.rowCount, options);
  if ("freshness" in entry) return check.freshness(entry.freshness.column, entry.freshness.maxAge as Duration, options);
  if ("sql" in entry) return check.sql(entry.name, entry.sql, { severity: options.severity });
  return check.expect(entry.name, entry.expect, { severity: options.severity });
}
