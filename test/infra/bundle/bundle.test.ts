// The function zip: built from the declaration the program loaded, so it holds that pipeline and the SQL
// files its models read and nothing else, and its hash changes when, and only when, the runtime, the
// declaration or one of those SQL files changes. Hash tests use a stand-in Functions module (fixtures/)
// in a scratch project, since they are about the zip, not the runtime: a build takes a second, not many.
// The real runtime's bundles for the sample and two other pipelines are loaded in test/infra/program.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isBuiltin } from "node:module";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { mallardArgs } from "../../helpers/cli.ts";
import { BUNDLE_ENTRY, buildBundle, ENCODER_WORKER_ENTRY, NATIVE_BINDING, zipFiles } from "../../../infra/bundle/bundle.ts";
import { declaredFiles, entrySource } from "../../../infra/bundle/declaration.ts";
import { loadPipeline } from "../../../runtime/config/load-pipeline.ts";
import { readDeclaration } from "../../../runtime/declare/load.ts";
import { bronze, gold, pipeline, source } from "../../../runtime/declare/index.ts";
import { loadBundle } from "./load-bundle.ts";

const root = process.cwd();
const work = await mkdtemp(join(tmpdir(), "mallard-bundle-"));

/** A scratch project: the stand-in Functions module, a YAML pipeline with two SQL files and one unused. */
async function scratchProject(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, "sql"), { recursive: true });
  await symlink(join(root, "node_modules"), join(dir, "node_modules"));
  await writeFile(join(dir, "package.json"), await readFile(join(root, "package.json")));
  await writeFile(join(dir, "host.json"), await readFile(join(root, "host.json")));
  await writeFile(join(dir, "functions.ts"), await readFile(join(root, "test/infra/fixtures/functions-entry.ts")));
  await writeFile(join(dir, "pipeline.yml"), `
name: scratch
schedule: "0 0 * * * *"
sources:
  db: { kind: postgres, connection: { secret: db-url } }
stages:
  - bronze: items
    source: db
    table: public.items
    primaryKey: [id]
  - silver: items_clean
    from: items
    sql: sql/items_clean.sql
  - gold: item_count
    from: items_clean
    sql: sql/item_count.sql
`);
  await writeFile(join(dir, "sql/items_clean.sql"), "select id from items where id is not null\n");
  await writeFile(join(dir, "sql/item_count.sql"), "select count(*) as n from items_clean\n");
  await writeFile(join(dir, "sql/unused.sql"), "select 1\n");
  return dir;
}

/** The scratch project's bundle, as the program would build it. */
async function scratchBundle(dir: string, out: string, sizeBudgetBytes?: number) {
  const declared = { file: "pipeline.yml", pipeline: await loadPipeline("pipeline.yml", dir) };
  return buildBundle({ projectRoot: dir, pipeline: declared, functions: "functions.ts", outDir: join(work, "out", out), sizeBudgetBytes });
}

const scratch = await scratchProject("scratch");
const first = await scratchBundle(scratch, "first");

test("the zip holds host.json, package.json, the bundle, the linux-x64 binding and the declared SQL files, nothing else", async () => {
  const unexpected = first.files.filter((f) =>
    !["host.json", "package.json", BUNDLE_ENTRY, ENCODER_WORKER_ENTRY].includes(f) &&
    !/^chunks\/[\w-]+\.mjs$/.test(f) &&
    !f.startsWith(`node_modules/${NATIVE_BINDING}/`));
  assert.deepEqual(unexpected, ["sql/item_count.sql", "sql/items_clean.sql"], "the SQL the models read, not sql/unused.sql");
  assert.ok(first.files.includes(`node_modules/${NATIVE_BINDING}/duckdb.node`));
  assert.ok(first.files.includes(`node_modules/${NATIVE_BINDING}/libduckdb.so`));
  const files = await zipFiles(first.zipPath);
  const manifest = JSON.parse(files.find((f) => f.path === "package.json")!.data.toString());
  assert.equal(manifest.main, BUNDLE_ENTRY);
  assert.equal(manifest.type, "module");
  assert.deepEqual(Object.keys(manifest.dependencies), [NATIVE_BINDING]);
  // Left to run time: Node's own modules, the binding shipped beside, the host's API.
  assert.deepEqual(first.externals.filter((e) => !isBuiltin(e) && !e.startsWith("@duckdb/node-bindings-")), ["@azure/functions-core"]);
  const sql = files.find((f) => f.path === "sql/items_clean.sql")!.data.toString();
  assert.equal(sql, "select id from items where id is not null\n");
});

test("the YAML declaration is in the bundle's code, and the entry names no absolute path", async () => {
  const files = await zipFiles(first.zipPath);
  const code = files.filter((f) => f.path.endsWith(".mjs")).map((f) => f.data.toString()).join("\n");
  assert.match(code, /items_clean/);
  assert.doesNotMatch(code, new RegExp(work.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  const entry = await entrySource({ file: "pipeline.yml", pipeline: await loadPipeline("pipeline.yml", scratch) }, scratch, "functions.ts");
  assert.match(entry, /import \{ startFunctions \} from "\.\/functions\.ts"/);
  assert.doesNotMatch(entry, /\bimport\b.*pipeline\.yml/, "YAML is embedded as text, not imported");
});

test("the hash changes when, and only when, the runtime, the declaration or one of its SQL files changes", async () => {
  const same = await scratchBundle(scratch, "same");
  assert.equal(same.zipHash, first.zipHash, "the same sources give the same zip, byte for byte");

  const elsewhere = await scratchProject("elsewhere");
  assert.equal((await scratchBundle(elsewhere, "elsewhere")).zipHash, first.zipHash, "another checkout (another path) gives the same zip");

  await writeFile(join(elsewhere, "sql/unused.sql"), "select 2\n");
  await writeFile(join(elsewhere, "notes.md"), "not part of anything\n");
  assert.equal((await scratchBundle(elsewhere, "unused")).zipHash, first.zipHash, "a file the pipeline does not read changes nothing");

  const changes: [string, string, (text: string) => string][] = [
    ["a SQL file a model reads", "sql/item_count.sql", (t) => t.replace("count(*)", "count(id)")],
    ["the declaration", "pipeline.yml", (t) => t.replace('"0 0 * * * *"', '"0 30 * * * *"')],
    ["the runtime", "functions.ts", (t) => t.replace('"0 0 * * * *"', '"0 15 * * * *"')],
  ];
  const hashes = new Set([first.zipHash]);
  for (const [what, file, change] of changes) {
    const dir = await scratchProject(`changed-${file.replace(/\W/g, "-")}`);
    await writeFile(join(dir, file), change(await readFile(join(dir, file), "utf8")));
    const changed = await scratchBundle(dir, `changed-${hashes.size}`);
    assert.ok(!hashes.has(changed.zipHash), `a change to ${what} changes the hash`);
    hashes.add(changed.zipHash);
  }
});

test("a build with no input changed is taken from the disk cache; a changed SQL file or runtime file, or a missing zip, builds again", async () => {
  const dir = await scratchProject("cache");
  const built = await scratchBundle(dir, "cache");
  assert.equal(built.cached, false, "nothing cached yet");
  const again = await scratchBundle(dir, "cache");
  assert.equal(again.cached, true, "nothing changed: the zip on disk is reused");
  assert.equal(again.zipHash, built.zipHash);
  assert.equal(again.zipPath, built.zipPath);
  assert.deepEqual(again.files, built.files);

  await writeFile(join(dir, "sql/unused.sql"), "select 3\n");
  assert.equal((await scratchBundle(dir, "cache")).cached, true, "a file the bundle does not read changes nothing");

  await writeFile(join(dir, "sql/item_count.sql"), "select count(id) as n from items_clean\n");
  const sqlChanged = await scratchBundle(dir, "cache");
  assert.equal(sqlChanged.cached, false, "a SQL file a model reads changed");
  assert.notEqual(sqlChanged.zipHash, built.zipHash);
  assert.equal((await scratchBundle(dir, "cache")).cached, true);

  const runtime = join(dir, "functions.ts");
  await writeFile(runtime, (await readFile(runtime, "utf8")).replace('"0 0 * * * *"', '"0 15 * * * *"'));
  const runtimeChanged = await scratchBundle(dir, "cache");
  assert.equal(runtimeChanged.cached, false, "a runtime file changed");
  assert.notEqual(runtimeChanged.zipHash, sqlChanged.zipHash);

  await rm(runtimeChanged.zipPath);
  const rebuilt = await scratchBundle(dir, "cache");
  assert.equal(rebuilt.cached, false, "the cached zip is gone");
  assert.equal(rebuilt.zipHash, runtimeChanged.zipHash);
});

test("a SQL file outside the project root is refused: the zip could not hold it where the model looks", () => {
  const db = source.postgres("db", { connection: "postgres://localhost/db" });
  const items = bronze.table(db, { table: "public.items", primaryKey: "id" });
  const outside = pipeline("outside", {
    schedule: "0 0 * * * *",
    stages: [items, gold.model("counts", { from: { items }, sql: "../shared/counts.sql" })],
  });
  assert.throws(() => declaredFiles({ file: "p.ts", pipeline: outside }, root), /stage "counts": sql: \.\.\/shared\/counts\.sql is outside the project root/);
  const inline = pipeline("inline", { schedule: "0 0 * * * *", stages: [items, gold.model("counts", { from: { items }, sql: "select count(*) from items" })] });
  assert.deepEqual(declaredFiles({ file: "p.ts", pipeline: inline }, root), [], "inline SQL needs no file");
});

test("the build fails when the size budget is exceeded", async () => {
  await assert.rejects(scratchBundle(scratch, "small", 1024 * 1024), /over the budget of 1\.0 MB \(mallard:bundle\.sizeBudgetMB\)/);
});

test("the build fails when the native binding is not installed", async () => {
  // A project whose node_modules lacks the binding: the entry resolves, the binding does not.
  const bare = join(work, "bare");
  await mkdir(bare, { recursive: true });
  await writeFile(join(bare, "package.json"), await readFile(join(root, "package.json")));
  await writeFile(join(bare, "host.json"), "{}");
  await writeFile(join(bare, "entry.ts"), "export function startFunctions() {}\n");
  await writeFile(join(bare, "p.yml"), "name: p\nschedule: '0 0 * * * *'\nsources: {}\nstages: []\n");
  const declared = { file: "p.yml", pipeline: pipeline("p", { schedule: "0 0 * * * *", stages: [] }) };
  await assert.rejects(buildBundle({ projectRoot: bare, pipeline: declared, functions: "entry.ts" }), /@duckdb\/node-bindings-linux-x64 is not installed/);
});

test("the real runtime's bundle of a pipeline `mallard plan` refuses registers its functions but refuses to run: its startup checks fail with plan's message", async () => {
  const file = "test/infra/fixtures/pipelines/refused.yml";
  const refused = await readDeclaration(resolve(root, file), file); // read, not checked: as if deployed around `pulumi up`
  const bundle = await buildBundle({ projectRoot: root, pipeline: { file, pipeline: refused }, outDir: join(work, "out", "refused") });
  const cli = await promisify(execFile)(process.execPath, mallardArgs(["plan", "-c", file])).catch((e: { stderr: string }) => e);
  const planMessage = cli.stderr.trim().replace(/^error: /, "");
  assert.match(planMessage, /reads "customers", which is not an input/);

  const app = await loadBundle(bundle.zipPath);
  assert.equal(app.checked, planMessage);
  assert.deepEqual(Object.keys(app.functions).sort(), ["driver", "executor", "poison", "run_report", "runs"], "still registered, so /api/runs can say why");
});
