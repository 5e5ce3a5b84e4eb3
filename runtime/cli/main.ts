// `mallard`: run, plan and status for a pipeline declaration, and `demo` (what `npm start` runs).
// Exit codes: 0 success, 1 a stage or check failed, 2 bad config or usage. Expected failures print one
// message, never a stack; nothing printed holds a secret.

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, describeError, MallardError } from "../errors.ts";
import { runCommand } from "./commands/run.ts";
import { planCommand } from "./commands/plan.ts";
import { statusCommand } from "./commands/status.ts";
import { demoCommand } from "./commands/demo.ts";
import { DEFAULT_CONFIG } from "../config/load-pipeline.ts";
import { DEFAULT_TASK_QUEUE } from "../declare/deployment.ts";

export const DEFAULT_LAKE = ".mallard/lake";

export interface CommonOptions {
  config: string;
  lake: string;
  projectDir: string;
  secretsFile?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("mallard")
    .description("Serverless DuckDB medallion lakehouse: run a pipeline declaration locally or against Azure storage")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();
  const common = (cmd: Command) =>
    cmd
      .option("-c, --config <file>", "pipeline declaration (.ts default export, or .yml)", DEFAULT_CONFIG)
      .option("-l, --lake <path|url>", "lake: a folder, abfss://…, https://… or an Azure Storage connection string", process.env.MALLARD_LAKE ?? DEFAULT_LAKE)
      .option("--project-dir <dir>", "folder SQL paths are relative to", process.cwd())
      .option("--secrets-file <file>", "local secrets file (JSON name → value)");

  common(program.command("run").description("run the pipeline (or selected stages)"))
    .option("-s, --select <stages...>", "stages to run: name, +name (with upstream), name+ (with downstream)")
    .option("--full-refresh", "reload bronze from scratch, ignoring checkpoints", false)
    .addOption(new Option("--concurrency <n>", "tasks at once").argParser(positiveInt).default(2))
    .option("--queue", "run through the task queue (the lake's Azure queue, or an in-process one) with local executors", false)
    .addOption(new Option("--workers <n>", "executors working the queue with --queue").argParser(positiveInt).default(2))
    .option("--queue-name <name>", "task queue name with --queue", DEFAULT_TASK_QUEUE)
    .action(async (opts) => {
      process.exitCode = await runCommand(opts);
    });
  common(program.command("plan").description("print the stages in execution order with their inputs")).action(async (opts) => {
    process.exitCode = await planCommand(opts);
  });
  common(program.command("status").description("print the last runs and every bronze table's checkpoint"))
    .addOption(new Option("-n, --limit <n>", "runs to show").argParser(positiveInt).default(5))
    .action(async (opts) => {
      process.exitCode = await statusCommand(opts);
    });
  program
    .command("demo")
    .description("start an embedded PostgreSQL with the sample shop data and run configs/pipeline.ts (npm start)")
    .option("-l, --lake <path>", "lake folder", DEFAULT_LAKE)
    .option("--data-dir <dir>", "where the embedded PostgreSQL keeps its data", ".mallard/pglite")
    .option("--reset", "start over: delete the embedded database and the lake first", false)
    .action(async (opts) => {
      process.exitCode = await demoCommand(opts);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    process.exitCode = 0;
    await buildProgram().parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return reportError(error);
  }
}

/** One clear message and an exit code; a stack only for what is a bug. */
export function reportError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof ConfigError) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return 2;
  }
  if (error instanceof MallardError) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return error.exitCode;
  }
  process.stderr.write(`internal error (a bug in Mallard, please report it): ${describeError(error)}\n`);
  if (error instanceof Error && error.stack) process.stderr.write(`${error.stack.split("\n").slice(1).join("\n")}\n`);
  return 1;
}
