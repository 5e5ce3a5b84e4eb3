// The pipeline: a name, a schedule and its stages. `pipeline()` checks the structure (names, inputs,
// cycles, schedule) so a bad declaration fails at load time with one message per problem.

import { CronExpressionParser } from "cron-parser";
import { ConfigError } from "../errors.ts";
import { declaredKind } from "./kinds/index.ts";
import { costProblems, type CostSettings } from "../cost/prices.ts";
import { checkNotify, notifySettings, type NotifyArgs, type NotifySettings } from "./notify.ts";
import type { Stage } from "./stages.ts";

export interface EngineSettings {
  /**
   * Memory the engine may use, Node process and DuckDB together (DuckDB's own limit is set lower by a
   * reserve for the rest, and it spills past it); a Flex Consumption instance has 2 or 4 GB. @default "1GB"
   */
  memoryLimit?: string;
  /** DuckDB threads. @default the number of cores */
  threads?: number;
  /** Where DuckDB spills when over the memory limit. @default a folder in the OS temp directory */
  tempDirectory?: string;
}

export interface PipelineArgs {
  /**
   * When the Azure driver starts a run: NCRONTAB, six fields with seconds first.
   * @example "0 *\/15 * * * *"
   */
  schedule: string;
  /** Every stage of the pipeline; inputs must be listed too. */
  stages: readonly Stage[];
  engine?: EngineSettings;
  /**
   * Webhooks to Teams or Slack on a failed run, a warn check crossing its threshold, a stale gold table or
   * reconciliation drift. @example { webhooks: [webhook.teams({ url: secret("teams-alerts-url") })] }
   */
  notify?: NotifyArgs;
  /**
   * The run cost estimate's settings: instance memory and prices (defaults and their date in
   * runtime/cost/prices.ts, docs/cost.md). @example { instanceMemoryMB: 4096, prices: { currency: "EUR", flexGbSecond: 0.000024 } }
   */
  cost?: CostSettings;
}

export interface Pipeline {
  readonly kind: "pipeline";
  readonly name: string;
  readonly schedule: string;
  /** Stages in execution order (inputs before the stages that read them). */
  readonly stages: readonly Stage[];
  readonly engine: EngineSettings;
  /** Absent when the pipeline declares no notifications. */
  readonly notify?: NotifySettings;
  /** Absent: the defaults. */
  readonly cost?: CostSettings;
}

export function pipeline(name: string, args: PipelineArgs): Pipeline {
  const problems = [...checkName("pipeline", name), ...checkSchedule(args.schedule), ...checkEngine(args.engine), ...checkNotify(args.notify), ...costProblems(args.cost)];
  // A JavaScript caller (or one that cast) can leave out what the types require: name the field.
  if (!Array.isArray(args.stages)) problems.push(`stages: missing (expected the list of the pipeline's stages)`);
  else problems.push(...checkStages(args.stages));
  if (problems.length) throw new ConfigError(problems.map((p) => `pipeline "${name}": ${p}`));
  return { kind: "pipeline", name, schedule: args.schedule, stages: executionOrder(args.stages), engine: args.engine ?? {}, ...(args.notify ? { notify: notifySettings(args.notify) } : {}), ...(args.cost ? { cost: args.cost } : {}) };
}

/** Inputs of a stage by view name (a bronze table has none). */
export function inputsOf(stage: Stage): Readonly<Record<string, Stage>> {
  return declaredKind(stage).inputs(stage);
}

function checkName(what: string, name: string): string[] {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
    ? []
    : [`${what} name "${name}" must start with a letter or _ and hold only letters, digits and _`];
}

function checkStages(stages: readonly Stage[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, Stage>();
  for (const stage of stages) {
    problems.push(...checkName(`stage`, stage.name));
    const other = byName.get(stage.name);
    if (other && other !== stage) problems.push(`stage "${stage.name}": duplicate name (two stages are called "${stage.name}")`);
    byName.set(stage.name, stage);
  }
  for (const stage of stages) {
    for (const [view, input] of Object.entries(inputsOf(stage))) {
      if (byName.get(input.name) !== input) {
        problems.push(`stage "${stage.name}": from.${view}: unknown input "${input.name}" (not in the pipeline's stages)`);
      }
    }
    problems.push(...declaredKind(stage).check(stage));
  }
  const cycle = findCycle(stages);
  if (cycle) problems.push(`stage "${cycle[0]}": from: cycle ${cycle.join(" -> ")}`);
  return problems;
}

function findCycle(stages: readonly Stage[]): string[] | undefined {
  const state = new Map<Stage, "visiting" | "done">();
  const path: Stage[] = [];
  const visit = (stage: Stage): string[] | undefined => {
    if (state.get(stage) === "done") return undefined;
    if (state.get(stage) === "visiting") {
      return [...path.slice(path.indexOf(stage)), stage].map((s) => s.name);
    }
    state.set(stage, "visiting");
    path.push(stage);
    for (const input of Object.values(inputsOf(stage))) {
      const cycle = visit(input);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(stage, "done");
    return undefined;
  };
  for (const stage of stages) {
    const cycle = visit(stage);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Topological order, stable with respect to the declared order. */
function executionOrder(stages: readonly Stage[]): Stage[] {
  const done = new Set<Stage>();
  const order: Stage[] = [];
  const visit = (stage: Stage) => {
    if (done.has(stage)) return;
    done.add(stage);
    for (const input of Object.values(inputsOf(stage))) visit(input);
    order.push(stage);
  };
  stages.forEach(visit);
  return order;
}

function checkEngine(engine: EngineSettings | undefined): string[] {
  const problems: string[] = [];
  if (engine?.memoryLimit !== undefined && !/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(engine.memoryLimit)) {
    problems.push(`engine.memoryLimit: "${engine.memoryLimit}" is not a size such as "1GB" or "512MiB"`);
  }
  if (engine?.threads !== undefined && !(Number.isInteger(engine.threads) && engine.threads > 0)) {
    problems.push(`engine.threads: expected a whole number ≥ 1 (got ${engine.threads})`);
  }
  return problems;
}

const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_NAMES = /^[A-Za-z]{3}(-[A-Za-z]{3})?(,[A-Za-z]{3}(-[A-Za-z]{3})?)*$/;
const NCRONTAB = `six fields, seconds first, e.g. "0 */15 * * * *"`;
const CRON_RANGES = [["second", 0, 59], ["minute", 0, 59], ["hour", 0, 23], ["day", 1, 31], ["month", 1, 12], ["day-of-week", 0, 6]] as const;

/**
 * The form Azure's timer trigger accepts (NCRONTAB: no `?`, `L` or `#`), each field's range, then whether
 * the schedule ever fires (cron-parser): `99 99 99 99 99 99`, `0 0 25 * * *` or `0 0 0 31 2 *` would
 * otherwise deploy a timer that never runs.
 */
export function checkSchedule(schedule: unknown): string[] {
  // A TypeScript module that ignores the types can pass anything, or leave the field out.
  if (typeof schedule !== "string") return [`schedule: expected an NCRONTAB expression such as "0 */15 * * * *" (${schedule === undefined ? "missing" : `got ${schedule === null ? "null" : typeof schedule}`})`];
  const fields = schedule.trim().split(/\s+/);
  const shaped = fields.length === 6 && fields.every((f, i) => CRON_FIELD.test(f) || (i >= 4 && CRON_NAMES.test(f)));
  if (!shaped) return [`schedule: "${schedule}" is not an NCRONTAB expression (${NCRONTAB})`];
  for (const [i, [field, min, max]] of CRON_RANGES.entries()) {
    // Numbers before a `/` are values; after it, a step (checked by cron-parser below).
    const values = fields[i].split(",").flatMap((part) => part.split("/")[0].match(/\d+/g) ?? []).map(Number);
    const wrong = values.find((v) => v < min || v > max);
    if (wrong !== undefined) return [`schedule: "${schedule}": ${field} ${wrong} is outside ${min}-${max} (${NCRONTAB})`];
  }
  try {
    CronExpressionParser.parse(schedule.trim());
  } catch (e) {
    const reason = (e as Error).message.replace(/^Invalid explicit day of month definition$/, "that day never comes in those months");
    return [`schedule: "${schedule}": ${reason} (${NCRONTAB})`];
  }
  return [];
}
