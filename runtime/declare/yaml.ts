// The YAML form of a pipeline: the same declarations, validated by a zod schema, then built with the
// same builders as the TypeScript form so both pass the same checks. Stages refer to inputs by name.

import { z } from "zod";
import { isSeq, LineCounter, parseDocument, YAMLParseError } from "yaml";
import { pipeline, type Pipeline, type PipelineArgs } from "./pipeline.ts";
import { secret } from "./secret.ts";
import { source, type Source } from "./sources.ts";
import type { Stage } from "./stages.ts";
import { YAML_FORMS, type YamlContext, type YamlForm } from "./kinds/index.ts";
import { name } from "./yaml-fields.ts";
import { filesSourceFromYaml, filesSourceSchema } from "./files-yaml.ts";
import { restSourceFromYaml, restSourceSchema, secretValue } from "./rest-yaml.ts";
import { ConfigError } from "../errors.ts";
import { NOTIFY_EVENTS, webhook, type NotifyArgs, type NotifyEvent } from "./notify.ts";

// A stage entry is the first kind's form it matches, in registry order. (A `.transform` that tags the
// entry with its form would change which messages zod's union reports, so the form is found again below.)
const stageSchema = z.union(YAML_FORMS.map((form) => form.schema) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);

const sourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.enum(["postgres", "mysql", "mariadb", "sqlserver", "oracle"]),
    connection: secretValue,
    chunkRows: z.number().int().positive().optional(),
  }),
  restSourceSchema,
  filesSourceSchema,
]);

export const pipelineFileSchema = z.strictObject({
  name,
  schedule: z.string(),
  engine: z.strictObject({ memoryLimit: z.string().optional(), threads: z.number().int().positive().optional(), tempDirectory: z.string().optional() }).optional(),
  sources: z.record(z.string(), sourceSchema),
  stages: z.array(stageSchema).min(1),
  notify: z.strictObject({
    // Only `{ secret: name }`: a webhook URL is a credential and never sits in the file.
    webhooks: z.array(z.strictObject({
      format: z.enum(["teams", "slack"]),
      url: z.strictObject({ secret: z.string().regex(/^[A-Za-z0-9-]+$/, "letters, digits and dashes") }),
      name: z.string().optional(),
      on: z.array(z.enum(NOTIFY_EVENTS as [NotifyEvent, ...NotifyEvent[]])).min(1).optional(),
    })),
    warnAbove: z.number().int().min(0).optional(),
    retry: z.strictObject({ maxAttempts: z.number().int().optional(), totalSeconds: z.number().optional() }).optional(),
  }).optional(),
  // Checked by pipeline() (costProblems), which names the unknown price or the wrong size.
  cost: z.strictObject({ instanceMemoryMB: z.number().optional(), prices: z.record(z.string(), z.union([z.number(), z.string()])).optional() }).optional(),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;

/** Parse and validate YAML text; `file` names it in messages. */
export function pipelineFromYaml(text: string, file: string): Pipeline {
  const { raw, stageLines } = parseYaml(text, file);
  return pipelineFromData(raw, file, stageLines.map((line, i) => `stages[${i}]${line ? ` at line ${line}` : ""}`));
}

/** YAML text as data, and the line each stage entry starts on. */
export function parseYaml(text: string, file: string): { raw: unknown; stageLines: (number | undefined)[] } {
  const lines = new LineCounter();
  try {
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
    if (doc.errors.length) throw doc.errors[0];
    const stagesNode = doc.get("stages", true);
    const stageLines = isSeq(stagesNode) ? stagesNode.items.map((item) => (item as { range?: [number] }).range && lines.linePos((item as { range: [number] }).range[0]).line) : [];
    return { raw: doc.toJS(), stageLines };
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}` : "";
    throw new ConfigError([`${file}${where}: not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
}

/**
 * Where a problem with a stage entry is, when the entry did not come from the file's own `stages:` (a job
 * sheet's row): the whole place, file included, or undefined to name it as the file's own.
 */
export type StageLocator = (index: number, field: string) => string | undefined;

/**
 * A pipeline from data shaped like the YAML file, validated and built exactly as YAML is. `places` names
 * each stage entry in messages (`stages[2] at line 14`); `locate` names entries that came from elsewhere.
 */
export function pipelineFromData(raw: unknown, file: string, places: readonly (string | undefined)[], locate?: StageLocator): Pipeline {
  const parsed = pipelineFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(raw, issue, file, locate)));
  return buildPipeline(parsed.data, file, places);
}

/** `stage "orders": incremental.cursor: expected …`, or the plain path outside stages. */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue, file: string, locate?: StageLocator): string {
  const path = issue.path.map(String);
  if (path[0] === "stages" && path.length >= 2) {
    const located = locate?.(Number(path[1]), path.slice(2).join("."));
    if (located) return `${located}: ${issueMessage(issue)}`;
    const entry = (raw as { stages?: Record<string, Record<string, unknown>>[] }).stages?.[Number(path[1])];
    const stageName = entry && YAML_FORMS.map((form) => entry[form.key]).find((value) => value !== undefined && value !== null);
    const field = path.slice(2).join(".") || "(stage)";
    const label = typeof stageName === "string" ? `stage "${stageName}"` : `stages[${path[1]}]`;
    return `${file}: ${label}: ${field}: ${issueMessage(issue)}`;
  }
  return `${file}: ${path.join(".") || "(top level)"}: ${issueMessage(issue)}`;
}

/** `{ bronze: … }, { silver: … }, { gold: … } or { dedup: … }` */
const STAGE_FORMS = YAML_FORMS.map((form) => `{ ${form.key}: … }`).join(", ").replace(/, ([^,]*)$/, " or $1");

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_union") return `not one of the accepted forms (a stage is ${STAGE_FORMS}; see the README)`;
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return issue.message;
}

function buildPipeline(file: PipelineFile, fileName: string, places: readonly (string | undefined)[]): Pipeline {
  const problems: string[] = [];
  const sources = new Map<string, Source>(
    Object.entries(file.sources).map(([n, s]) => [
      n,
      s.kind === "rest" ? restSourceFromYaml(n, s)
        : s.kind === "files" ? filesSourceFromYaml(n, s)
        : source[s.kind](n, { connection: typeof s.connection === "string" ? s.connection : secret(s.connection.secret), chunkRows: s.chunkRows }),
    ]),
  );
  const built = new Map<string, Stage>();
  const at = (index: number) => places[index] ?? `stages[${index}]`;
  const entries = new Map<string, { form: YamlForm<Stage>; value: unknown; index: number }>();
  file.stages.forEach((value, index) => {
    const form = YAML_FORMS.find((f) => f.schema.safeParse(value).success)!;
    const stageName = (value as Record<string, unknown>)[form.key] as string;
    const first = entries.get(stageName);
    // A map by name would keep the last of two; both are named, so the user can pick which to rename.
    if (first) problems.push(`${fileName}: stage "${stageName}": duplicate name (${at(first.index)} and ${at(index)})`);
    else entries.set(stageName, { form, value, index });
  });
  const building = new Set<string>();

  const yaml: YamlContext = {
    input: (stageName, where) => build(stageName, where),
    source(sourceName, stageName) {
      const found = sources.get(sourceName);
      if (!found) problems.push(`${fileName}: stage "${stageName}": source: unknown source "${sourceName}" (sources: ${[...sources.keys()].join(", ") || "none"})`);
      return found;
    },
    problem: (message) => problems.push(`${fileName}: ${message}`),
  };

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
    const stage = entry.form.build(entry.value, yaml);
    building.delete(stageName);
    if (stage) built.set(stageName, stage);
    return stage;
  };

  const stages = [...entries.keys()].map((n) => build(n, `stage "${n}"`)).filter((s): s is Stage => s !== undefined);
  if (problems.length) throw new ConfigError([...new Set(problems)]);
  try {
    return pipeline(file.name, { schedule: file.schedule, stages, engine: file.engine, notify: notifyFromYaml(file.notify), cost: file.cost as PipelineArgs["cost"] });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => `${fileName}: ${p}`));
    throw e;
  }
}

function notifyFromYaml(notify: PipelineFile["notify"]): NotifyArgs | undefined {
  if (!notify) return undefined;
  const webhooks = notify.webhooks.map((w) => webhook[w.format]({ url: secret(w.url.secret), name: w.name, on: w.on }));
  return { webhooks, warnAbove: notify.warnAbove, retry: notify.retry };
}
