// Fuzzed declarations through the one loader (runtime/config/load-pipeline.ts): YAML files read by
// loadPipeline, and TypeScript declarations built with the builders a module calls and then checked by
// checkPipeline, as the Functions entry does. Each case must end in a pipeline or in a user error (a
// MallardError) whose every problem is one line with no stack frame and no SQL excerpt: never a
// TypeError, a crash or a hang. fast-check draws wrong types, unknown keys, cycles and self-inputs,
// duplicate names, huge and unicode names, SQL keywords as names, bad schedules and garbage text.

import fc from "fast-check";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { checkPipeline, loadPipeline } from "../../runtime/config/load-pipeline.ts";
import { bronze, check, gold, pipeline, secret, silver, source } from "../../runtime/declare/index.ts";
import { ConfigError, MallardError } from "../../runtime/errors.ts";
import { type ClassResult, classResult, type CaseOutcome } from "./report.ts";

const KEYWORDS = ["select", "from", "where", "table", "drop", "order", "group", "null", "user", "default", "limit", "join", "union", "delete", "insert", "all"];

/** Names a user might type, and names nobody should. */
const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("orders", "customers", "clean", "revenue", "t1", "_x") },
  { weight: 2, arbitrary: fc.constantFrom(...KEYWORDS, ...KEYWORDS.map((k) => k.toUpperCase())) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 0, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 300, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "a b", "a-b", "../etc", "x;drop table y", "\"q\"", "'q'", "ñandú", "表", "🦆", "a\nb", "1abc", "$x") },
);

/** Any YAML value, for a field given the wrong type. */
const wrongArb = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), // Spread into a plain object: fast-check's dictionaries have no prototype, which no module or JSON makes.
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }).map((d) => ({ ...d })),
);

const scheduleArb = fc.oneof(
  fc.constantFrom("0 */15 * * * *", "0 0 * * * *", "99 99 99 99 99 99", "0 0 25 * * *", "* * * * *", "", "every day", "0 0 0 0 0 0", "*/0 * * * * *"),
  fc.array(fc.oneof(fc.constantFrom("*", "*/5", "1-3", "0"), fc.integer({ min: -5, max: 100 }).map(String)), { minLength: 0, maxLength: 7 }).map((f) => f.join(" ")),
);

const sqlArb = fc.oneof(
  fc.constantFrom(
    "select * from orders", "select id, count(*) as n from orders group by id", "select * from missing_input",
    "select read_text('mallard.secrets.json') as x", "select * from read_csv('/etc/passwd')", "copy orders to '/tmp/x.csv'",
    "select * from orders; drop table orders", "select 1 as \"select\"", "select * from \"表\"", "not sql at all", "select",
  ),
  fc.string({ maxLength: 40 }).map((s) => `select ${s}`),
);

interface Doc { [key: string]: unknown }

/** A pipeline file: a valid shape to start from, then mutations. */
const docArb = fc.record({
  pipelineName: nameArb,
  schedule: scheduleArb,
  sourceName: nameArb,
  stageNames: fc.array(nameArb, { minLength: 1, maxLength: 5 }),
  /** For each model, which earlier (or later: a cycle) stage it reads. */
  inputs: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 }),
  sql: sqlArb,
  mutations: fc.array(fc.tuple(fc.constantFrom("wrong-type", "unknown-key", "drop-key", "cycle", "duplicate", "check"), fc.nat(), wrongArb, nameArb), { maxLength: 3 }),
});

type Drawn = typeof docArb extends fc.Arbitrary<infer T> ? T : never;

function buildDoc(d: Drawn): Doc {
  const [first, ...rest] = d.stageNames;
  const stages: Doc[] = [{ bronze: first, source: d.sourceName, table: "public.orders", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] } }];
  rest.forEach((n, i) => {
    const input = d.stageNames[Math.min(d.inputs[i % d.inputs.length], d.stageNames.length - 1)];
    stages.push({ [i % 2 ? "gold" : "silver"]: n, from: input, sql: d.sql.replace(/\borders\b/g, input) });
  });
  const doc: Doc = { name: d.pipelineName, schedule: d.schedule, sources: { [d.sourceName]: { kind: "postgres", connection: { secret: "db-url" } } }, stages };
  for (const [kind, at, wrong, name] of d.mutations) {
    const stage = stages[at % stages.length];
    const keys = Object.keys(stage);
    const key = keys[at % keys.length];
    if (kind === "wrong-type") stage[key] = wrong;
    else if (kind === "unknown-key") stage[name || "extra"] = wrong;
    else if (kind === "drop-key") delete stage[key];
    else if (kind === "cycle" && stages.length > 1) (stages[0] as Doc).from = stages[stages.length - 1][Object.keys(stages[stages.length - 1])[0]];
    else if (kind === "cycle") stages.push({ silver: "self", from: "self", sql: "select 1 as x" });
    else if (kind === "duplicate") stages.push({ ...stages[at % stages.length] });
    else if (kind === "check") stage.checks = [{ notNull: name }, { unique: wrong }, { expect: "x > 0", name }];
    else if (at % 3 === 0) doc[name || "extra"] = wrong;
  }
  return doc;
}

/** Why an outcome is not clear (a crash, a stack, several lines in one problem), or undefined. */
function unclear(error: unknown): string | undefined {
  if (!(error instanceof MallardError)) return `${(error as Error)?.name ?? typeof error}: ${String((error as Error)?.message ?? error).split("\n")[0].slice(0, 200)}`;
  const problems = error instanceof ConfigError ? error.problems : [error.message];
  for (const p of problems) {
    if (/\n/.test(p)) return `a problem of several lines: ${JSON.stringify(p.slice(0, 200))}`;
    if (/\bat .*\(.*:\d+:\d+\)/.test(p) || /LINE \d+:/.test(p)) return `a stack or SQL excerpt: ${p.slice(0, 200)}`;
  }
  return undefined;
}

export async function fuzzDeclarations(runs = Number(process.env.FAULTS_FUZZ_RUNS ?? 700)): Promise<ClassResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "mallard-fuzz-"));
  const yamlCases: CaseOutcome[] = [];
  const tsCases: CaseOutcome[] = [];
  let accepted = 0;
  try {
    let n = 0;
    // YAML: a drawn document, or (one in ten) garbage text.
    await fc.assert(fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: docArb.map((d) => stringify(buildDoc(d))) }, { weight: 1, arbitrary: fc.string({ maxLength: 200 }) }), async (text) => {
      const file = `case-${n++}.yml`;
      await writeFile(join(dir, file), text);
      const outcome = await loadPipeline(file, dir).then(() => undefined, (e: unknown) => e ?? new Error("rejected with nothing"));
      if (!outcome) accepted++;
      const problem = outcome === undefined ? undefined : unclear(outcome);
      yamlCases.push({ name: `yaml ${file}`, failure: problem && `${problem}\n${text.slice(0, 300)}` });
      return true;
    }), { numRuns: runs, seed: Number(process.env.FAULTS_SEED ?? 20261202) });

    // TypeScript: what a module's builder calls do when its author ignores the types.
    await fc.assert(fc.asyncProperty(docArb, fc.array(fc.tuple(fc.nat(5), wrongArb), { maxLength: 2 }), async (d, swaps) => {
      const at = tsCases.length;
      const args: unknown[] = [d.pipelineName, d.schedule, d.sourceName, d.stageNames[0], d.sql, d.stageNames[1] ?? "m", { cursor: "updated_at" }];
      for (const [i, wrong] of swaps) args[i] = wrong;
      const outcome = await (async () => {
        const src = source.postgres(args[2] as string, { connection: secret("db-url") });
        const b = bronze.table(src, { name: args[3] as string, table: "public.orders", primaryKey: "id", incremental: args[6] as { cursor: string } });
        const m = silver.model(args[5] as string, { from: { [args[3] as string]: b }, sql: args[4] as string, checks: [check.notNull("id")] });
        const g = gold.model(`${args[5] as string}_g`, { from: m, sql: `select * from ${String(args[5])}` });
        const p = pipeline(args[0] as string, { schedule: args[1] as string, stages: [b, m, g] });
        await checkPipeline(p, dir);
      })().then(() => undefined, (e: unknown) => e ?? new Error("rejected with nothing"));
      if (!outcome) accepted++;
      const problem = outcome === undefined ? undefined : unclear(outcome);
      tsCases.push({ name: `typescript case ${at}`, failure: problem && `${problem} (args ${JSON.stringify(args).slice(0, 200)})` });
      return true;
    }), { numRuns: Math.round(runs / 2), seed: Number(process.env.FAULTS_SEED ?? 20261202) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const note = `${accepted} accepted, the rest refused with a one-line problem each (fast-check seed ${process.env.FAULTS_SEED ?? 20261202})`;
  return [classResult("fuzzed YAML declarations", yamlCases, note), classResult("fuzzed TypeScript declarations", tsCases)];
}
