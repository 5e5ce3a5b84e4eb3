// A planted secret: a unique value as the source's password (in its connection string) and as an unused
// secret, both in mallard.secrets.json, must appear nowhere it could leak: the output of `mallard run`
// (local, failing, through the queue), the run records and every other lake file (Parquet read back
// through DuckDB, so compression cannot hide it), the monitor's log lines and telemetry events of a queue
// run whose source fails, and the Functions bundle built from the same project.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { buildBundle, zipFiles } from "../../infra/bundle/bundle.ts";
import { loadPipeline } from "../../runtime/config/load-pipeline.ts";
import { Engine, queryRows } from "../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../runtime/engine/sql.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { runThroughQueue } from "../../runtime/orchestration/azure/worker.ts";
import { InProcessTaskQueue } from "../../runtime/orchestration/queue/memory-queue.ts";
import { defaultSecretChain } from "../../runtime/secrets/default-chain.ts";
import { Monitor, type TelemetrySink } from "../../runtime/telemetry/monitor.ts";
import { mallardArgs } from "../helpers/cli.ts";
import { testPostgres } from "../helpers/pg.ts";
import { type ClassResult, classResult, type CaseOutcome, tryCase } from "./report.ts";

const ROOT = resolve(import.meta.dirname, "../..");

export async function canarySecret(): Promise<ClassResult[]> {
  const canary = `canary-${randomBytes(12).toString("hex")}`;
  const unused = `canary-unused-${randomBytes(12).toString("hex")}`;
  const server = await testPostgres({ kind: "server" });
  const admin = new pg.Client(server.url);
  await admin.connect();
  const schema = await server.scratchSchema(admin, "canary");
  await admin.query(`CREATE TABLE ${schema}.items (id integer PRIMARY KEY, name text); INSERT INTO ${schema}.items SELECT g, 'item ' || g FROM generate_series(1, 50) g`);
  const work = await mkdtemp(join(tmpdir(), "mallard-canary-"));
  const project = join(work, "project");
  const withPassword = (port?: number) => {
    const u = new URL(server.url);
    u.password = canary; // trust auth ignores it
    if (port) u.port = String(port);
    return u.toString();
  };
  await mkdir(project, { recursive: true });
  for (const shared of ["node_modules", "runtime"]) await symlink(join(ROOT, shared), join(project, shared));
  for (const file of ["package.json", "host.json"]) await writeFile(join(project, file), await readFile(join(ROOT, file)));
  await writeFile(join(project, "pipeline.yml"), `
name: canary
schedule: "0 0 * * * *"
sources:
  db: { kind: postgres, connection: { secret: db-url } }
stages:
  - bronze: items
    source: db
    table: ${schema}.items
    primaryKey: [id]
  - silver: items_clean
    from: items
    sql: select id, upper(name) as name from items
  - gold: item_count
    from: items_clean
    sql: select count(*) as n from items_clean
`);
  await writeFile(join(project, "mallard.secrets.json"), JSON.stringify({ "db-url": withPassword(), "unused-api-key": unused }));
  await writeFile(join(project, "refused.secrets.json"), JSON.stringify({ "db-url": withPassword(1), "unused-api-key": unused }));

  const texts: { where: string; text: string }[] = [];
  const lakes: string[] = [];
  const cli = async (where: string, args: string[]) => {
    const lake = join(work, `lake-${lakes.length}`);
    lakes.push(lake);
    const out = await promisify(execFile)(process.execPath, mallardArgs(["run", "-c", "pipeline.yml", "--project-dir", project, "--lake", lake, ...args]), { cwd: project })
      .catch((e: { stdout: string; stderr: string; code: number }) => e);
    texts.push({ where: `${where}: stdout`, text: out.stdout }, { where: `${where}: stderr`, text: out.stderr });
    return out;
  };
  const cases: CaseOutcome[] = [];
  try {
    cases.push(await tryCase("mallard run (local) succeeds", async () => {
      const out = await cli("mallard run", []);
      return "code" in out && out.code ? `exit ${out.code}: ${out.stderr.slice(-300)}` : undefined;
    }));
    cases.push(await tryCase("mallard run with the source refusing the connection fails with one line", async () => {
      const out = await cli("mallard run (refused)", ["--secrets-file", "refused.secrets.json"]);
      return "code" in out && out.code ? undefined : "it succeeded";
    }));
    cases.push(await tryCase("mallard run --queue succeeds", async () => {
      const out = await cli("mallard run --queue", ["--queue"]);
      return "code" in out && out.code ? `exit ${out.code}: ${out.stderr.slice(-300)}` : undefined;
    }));
    cases.push(await tryCase("a queue run whose source fails, with the monitor's lines and telemetry captured", async () => {
      const lake = join(work, "lake-telemetry");
      lakes.push(lake);
      const lines: string[] = [];
      const telemetry: TelemetrySink = {
        event: (name, properties, measurements) => void lines.push(JSON.stringify({ name, properties, measurements })),
        metric: (name, value, properties) => void lines.push(JSON.stringify({ name, value, properties })),
        exception: (error, properties) => void lines.push(JSON.stringify({ error: `${error.message}\n${error.stack}`, properties })),
        flush: async () => {},
      };
      const monitor = new Monitor({ sink: (line) => void lines.push(JSON.stringify(line)), telemetry });
      const pipeline = await loadPipeline("pipeline.yml", project);
      const secrets = await defaultSecretChain({ projectRoot: project, secretsFile: "refused.secrets.json", env: {} });
      const record = await runThroughQueue({
        pipeline, lake: new LocalLake(lake), queue: new InProcessTaskQueue(), secrets, projectRoot: project, monitor, workers: 1, pollMs: 20,
        retry: { baseDelaySeconds: 0, maxAttempts: 2 },
      });
      texts.push({ where: "monitor lines and telemetry", text: lines.join("\n") });
      if (record.status !== "failed") return `the run ${record.status}`;
      return lines.some((l) => l.includes("cannot connect")) ? undefined : "no line says the source refused";
    }));
    cases.push(await tryCase("the Functions bundle of the project", async () => {
      const pipeline = await loadPipeline("pipeline.yml", project);
      const bundle = await buildBundle({ projectRoot: project, pipeline: { file: "pipeline.yml", pipeline }, outDir: join(work, "bundle") });
      for (const entry of await zipFiles(bundle.zipPath)) texts.push({ where: `bundle ${entry.path}`, text: Buffer.from(entry.data).toString("latin1") });
      return undefined;
    }));

    // Every file of every lake: Parquet read back as text through DuckDB, the rest as bytes.
    const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [work] });
    try {
      for (const lake of lakes) {
        for (const file of await readdir(lake, { recursive: true, withFileTypes: true }).catch(() => [])) {
          if (!file.isFile()) continue;
          const path = join(file.parentPath, file.name);
          texts.push({ where: `lake file ${path.slice(work.length)}`, text: (await readFile(path)).toString("latin1") });
          if (file.name.endsWith(".parquet")) {
            const rows = await engine.withConnection((con) => queryRows<{ t: string }>(con, `SELECT string_agg(t::VARCHAR, '\n') AS t FROM read_parquet(${quoteLiteral(path)}) t`));
            texts.push({ where: `lake file ${path.slice(work.length)} (read)`, text: rows[0]?.t ?? "" });
          }
        }
      }
    } finally {
      await engine.close();
    }
  } finally {
    await admin.end();
    await server.close();
  }
  // The search itself: it must find the secret where it was planted.
  const control = (await readFile(join(project, "mallard.secrets.json"), "utf8")).includes(canary) && texts.length > 100;
  cases.push({ name: "the search finds the secret where it was planted", failure: control ? undefined : "it does not: the search is broken" });
  const leaks = texts.filter((t) => t.text.includes(canary) || t.text.includes(unused)).map((t) => ({ name: `leak in ${t.where}`, failure: "holds the planted secret" }));
  // The failing CLI run said why in one line, with no stack.
  const refused = texts.filter((t) => t.where.startsWith("mallard run (refused)")).map((t) => t.text).join("\n");
  const oneLine = await tryCase("the refused run says why in one line naming the stage and the server, with no stack", async () => {
    const lines = refused.split("\n").filter((l) => /cannot connect/.test(l));
    if (/^\s+at /m.test(refused)) return `a stack: ${refused.slice(0, 400)}`;
    return lines.length && lines.every((l) => /items/.test(l) && /127\.0\.0\.1:1\b/.test(l)) ? undefined : `output: ${refused.slice(0, 400)}`;
  });
  await rm(work, { recursive: true, force: true });
  return [
    classResult("canary secret: paths exercised", [...cases, oneLine], `${texts.length} outputs, records, lake files, telemetry lines and bundle files searched`),
    { name: "canary secret: leaks", tried: texts.length, survived: texts.length - leaks.length, failures: leaks.map((l) => `${l.name}: ${l.failure}`) },
  ];
}
