// `mallard`: the command table, and what every command shares (options, exit codes, error printing).
// Exit codes: 0 success, 1 a stage or check failed, 2 bad config or usage. Expected failures print one
// message, never a stack; nothing printed holds a secret.
//
// A command's options are declared here, so `--help` and usage errors need nothing else; its module is
// imported only when it runs, so `mallard --help` never loads DuckDB, pg or the Azure SDKs.
// Adding a command is one entry in COMMANDS.

import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, describeError, MallardError } from "../errors.ts";
import { DEFAULT_CONFIG, DEFAULT_TASK_QUEUE } from "../declare/deployment.ts";

export const DEFAULT_LAKE = ".mallard/lake";

/** The options of every command that reads a pipeline (`common: true`). */
export interface CommonOptions {
  config: string;
  lake: string;
  projectDir: string;
  secretsFile?: string;
}

/** What a command's module exports: it gets the parsed options and returns the exit code. */
export type CommandHandler<O> = (options: O) => Promise<number>;

interface CommandEntry {
  name: string;
  description: string;
  /** Adds --config, --lake, --project-dir and --secrets-file (CommonOptions). */
  common: boolean;
  /** The command's own options; commander parses and checks them before anything is loaded. */
  options?: (cmd: Command) => Command;
  /** Imports the command's module; called only when the command runs. */
  load: () => Promise<CommandHandler<never>>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "run",
    description: "run the pipeline (or selected stages)",
    common: true,
    options: (cmd) => cmd
      .addHelpText("after", "\nAn earlier run whose process died (or, through the queue, whose lease expired) is marked abandoned\n" +
        "and a new run starts; nothing is resumed in place: bronze tables continue from the checkpoints the\n" +
        "abandoned run committed, and models are rebuilt. `mallard status` shows such runs as abandoned.\n\n" +
        "--full-refresh, by stage kind:\n" +
        "  bronze.table    reloads the table from scratch: checkpoints, file ledgers and sniffed schemas are ignored\n" +
        "  silver.model,   nothing more than a normal run: models are rebuilt from their inputs on every run\n" +
        "  gold.model\n" +
        "  silver.dedup    relinks every record, not only new and edited ones (with the saved model: it is retrained\n" +
        "                  only when the comparisons changed); entity ids stay the same wherever a cluster comes\n" +
        "                  out with the same records")
      .option("-s, --select <stages...>", "stages to run: name, +name (with upstream), name+ (with downstream)")
      .option("--full-refresh", "start the selected stages over (see below for each kind)", false)
      .addOption(new Option("--concurrency <n>", "tasks at once").argParser(positiveInt).default(2))
      .option("--queue", "run through the task queue (the lake's Azure queue, or an in-process one) with local executors", false)
      .addOption(new Option("--workers <n>", "executors working the queue with --queue").argParser(positiveInt).default(2))
      .option("--queue-name <name>", "task queue name with --queue", DEFAULT_TASK_QUEUE),
    load: async () => (await import("./commands/run.ts")).runCommand,
  },
  {
    name: "plan",
    description: "print the stages in execution order with their inputs (or the graph as Mermaid, DOT or JSON)",
    common: true,
    options: (cmd) => cmd.addOption(new Option("--format <format>", "output format").choices(["text", "mermaid", "dot", "json"]).default("text")),
    load: async () => (await import("./commands/plan.ts")).planCommand,
  },
  {
    name: "status",
    description: "print the last runs and every bronze table's checkpoint",
    common: true,
    options: (cmd) => cmd.addOption(new Option("-n, --limit <n>", "runs to show").argParser(positiveInt).default(5)),
    load: async () => (await import("./commands/status.ts")).statusCommand,
  },
  {
    name: "report",
    description: "write the HTML report of a run (default the newest): DAG, timeline, tasks, checks, schema changes, dedup",
    common: true,
    options: (cmd) => cmd
      .option("--run <id>", "the run (default: the newest)")
      .option("-o, --out <file>", "write the page here (default: into the lake, _mallard/reports/<pipeline>/<run>.html)"),
    load: async () => (await import("./commands/report.ts")).reportCommand,
  },
  {
    name: "overview",
    description: "write the pipeline overview page: the last runs' durations and rows, gold freshness, failing checks over time",
    common: true,
    options: (cmd) => cmd
      .addOption(new Option("-n, --runs <n>", "runs to show").argParser(positiveInt).default(30))
      .option("-o, --out <file>", "write the page here (default: into the lake, _mallard/reports/<pipeline>/index.html)"),
    load: async () => (await import("./commands/overview.ts")).overviewCommand,
  },
  {
    name: "query",
    description: "run SQL over the lake's tables (a view per table; bronze also as <name>__history)",
    common: true,
    options: (cmd) => cmd
      .argument("<sql...>", "the query, e.g. \"select * from daily_revenue\"")
      .option("--as-of <version|time>", "read every table as of a version number or a time (2026-11-24T10:00:00Z)")
      .addOption(new Option("--format <format>", "output format").choices(["table", "csv", "json"]).default("table"))
      .addOption(new Option("--max-rows <n>", "rows to print").argParser(positiveInt).default(1000)),
    load: async () => (await import("./commands/query.ts")).queryCommand,
  },
  {
    name: "shell",
    description: "an interactive SQL prompt over the lake's tables",
    common: true,
    options: (cmd) => cmd
      .option("--as-of <version|time>", "read every table as of a version number or a time")
      .addOption(new Option("--max-rows <n>", "rows to print per result").argParser(positiveInt).default(100)),
    load: async () => (await import("./commands/shell.ts")).shellCommand,
  },
  {
    name: "dedup",
    description: "explain a silver.dedup stage's blocking: pairs per rule, largest blocks, share of likely matches, refinements",
    common: true,
    options: (cmd) => cmd
      .addArgument(new Argument("<action>", "what to do").choices(["explain"]))
      .argument("<stage>", "the silver.dedup stage")
      .addOption(new Option("--sample-pairs <n>", "pairs sampled per rule to estimate its share of likely matches").argParser(positiveInt).default(100_000))
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
      .addHelpText("after", "\nReads the stage's input as the lake holds it now and scores a sample of each rule's pairs with the\n" +
        "stage's saved model (trained here when there is none). Nothing is written. See README, \"Dedup in silver\".")
      ,
    load: async () => (await import("./commands/dedup.ts")).dedupCommand,
  },
  {
    name: "vacuum",
    description: "delete files no table version within the retention period uses (default 7 days)",
    common: true,
    options: (cmd) => cmd
      .option("--retain <duration>", "keep what versions this recent read, e.g. \"7 days\" (default: each table's retention, 7 days)")
      .option("--dry-run", "list what would be deleted, delete nothing", false)
      .option("-t, --table <names...>", "only these tables"),
    load: async () => (await import("./commands/vacuum.ts")).vacuumCommand,
  },
  {
    name: "compact",
    description: "rewrite small bronze files into larger ones (one commit per partition group; readers see the same rows)",
    common: true,
    options: (cmd) => cmd
      .addOption(new Option("--small-file-mb <n>", "files smaller than this are rewritten").argParser(positiveInt).default(32))
      .addOption(new Option("--target-file-mb <n>", "size a rewritten file aims for").argParser(positiveInt).default(128))
      .option("-t, --table <names...>", "only these tables"),
    load: async () => (await import("./commands/compact.ts")).compactCommand,
  },
  {
    name: "migrate",
    description: "convert tables of an earlier Mallard layout (_current.json) into Delta tables, in place",
    common: true,
    options: (cmd) => cmd.option("-t, --table <names...>", "only these tables"),
    load: async () => (await import("./commands/migrate.ts")).migrateCommand,
  },
  {
    name: "demo",
    description: "start an embedded PostgreSQL with the sample shop data and run configs/pipeline.ts (npm start)",
    common: false,
    options: (cmd) => cmd
      .option("-l, --lake <path>", "lake folder", DEFAULT_LAKE)
      .option("--data-dir <dir>", "where the embedded PostgreSQL keeps its data", ".mallard/pglite")
      .option("--reset", "start over: delete the embedded database and the lake first", false),
    load: async () => (await import("./commands/demo.ts")).demoCommand,
  },
];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option("-c, --config <file>", "pipeline declaration (.ts default export, .yml, or a job sheet .xlsx/.csv beside its .yml)", DEFAULT_CONFIG)
    .option("-l, --lake <path|url>", "lake: a folder, abfss://…, https://… or an Azure Storage connection string", process.env.MALLARD_LAKE ?? DEFAULT_LAKE)
    .option("--project-dir <dir>", "folder SQL paths are relative to", process.cwd())
    .option("--secrets-file <file>", "local secrets file (JSON name → value)");
}

export function buildProgram(): Command {
  const program = new Command("mallard")
    .description("Serverless DuckDB medallion lakehouse: run a pipeline declaration locally or against Azure storage")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();
  for (const entry of COMMANDS) {
    let cmd = program.command(entry.name).description(entry.description);
    if (entry.common) cmd = commonOptions(cmd);
    if (entry.options) cmd = entry.options(cmd);
    cmd.action(async (...args: unknown[]) => {
      const handler = await entry.load();
      // commander passes declared arguments first and the command last; a handler gets them as `args`.
      const command = args[args.length - 1] as Command;
      const options = { ...command.opts(), args: command.args };
      // The declared options above are what the handler's options type describes.
      process.exitCode = await handler(options as never);
    });
  }
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
