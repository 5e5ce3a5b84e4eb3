// The published package as a project that depends on it meets it: `npm pack` (which builds dist/ through
// `prepare`), the tarball unpacked into a fresh project's node_modules, a pipeline declaration type-checked
// against the package's .d.ts, and run and queried with the packed `mallard` under plain Node (no tsx
// loader, no TypeScript sources of Mallard in the tarball).
//
// Installing the tarball's dependencies from the registry is npm's job and needs the network, so the
// project links the packages this repository already installed (Node follows the links to their own
// dependencies). What this test owns is what the tarball holds: its files, exports, bin and types, and
// that every package its bundle imports is one of its declared dependencies.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { type TestPostgres, testPostgres } from "./helpers/pg.ts";

const root = join(import.meta.dirname, "..");
let dir: string;
let project: string;
let installed: string;
let db: TestPostgres;

function run(command: string, args: string[], cwd: string) {
  // No NODE_OPTIONS: the test runner's `--import tsx` must not reach the packed command.
  const env = { ...process.env, NODE_OPTIONS: "", NO_COLOR: "1" };
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-package-"));
  const packed = run("npm", ["pack", "--json", "--pack-destination", dir], root);
  assert.equal(packed.code, 0, packed.err);
  // prepare's own output comes first on stdout; npm's JSON is the rest.
  const [{ filename }] = JSON.parse(packed.out.slice(packed.out.search(/^\[/m))) as { filename: string }[];

  project = join(dir, "project");
  installed = join(project, "node_modules", "mallard");
  await mkdir(installed, { recursive: true });
  const untar = run("tar", ["-xzf", join(dir, filename), "-C", installed, "--strip-components=1"], dir);
  assert.equal(untar.code, 0, untar.err);

  const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(manifest.dependencies), "typescript", "@types/node"]) {
    await mkdir(dirname(join(project, "node_modules", name)), { recursive: true });
    await symlink(join(root, "node_modules", name), join(project, "node_modules", name), "dir");
  }

  // A PostgreSQL table too: its extraction starts the Parquet encoder's worker from its own file in dist/.
  db = await testPostgres();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const schema = await db.scratchSchema(client, "packed");
  await client.query(`CREATE TABLE ${schema}.customers AS SELECT n AS id, 'customer ' || n AS name FROM generate_series(1, 5000) AS n`);
  await client.end();

  await writeFile(join(project, "package.json"), JSON.stringify({ name: "shop", private: true, type: "module" }));
  await writeFile(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: true, types: ["node"] },
    files: ["pipeline.ts"],
  }));
  await writeFile(join(project, "pipeline.ts"), `
import { bronze, pipeline, silver, source } from "mallard";

const drop = source.files("drop", { folder: "drop" });
const orders = bronze.files(drop, { name: "orders", pattern: "*.csv", primaryKey: "id", settle: "0 seconds" });
const shop = source.postgres("shop", { connection: ${JSON.stringify(db.url)} });
const customers = bronze.table(shop, { table: "${schema}.customers", name: "customers", primaryKey: "id" });
const totals = silver.model("totals", { from: { orders }, sql: "totals.sql", primaryKey: "customer" });

// The types are real, not any: a misspelt option is an error (if it were not, this line would be one).
// @ts-expect-error: "patern" is not an option of bronze.files
bronze.files(drop, { name: "typo", patern: "*.csv", primaryKey: "id" });

export default pipeline("shop", { schedule: "0 0 * * * *", stages: [orders, customers, totals] });
`);
  await writeFile(join(project, "totals.sql"), "SELECT customer, sum(amount) AS amount FROM orders GROUP BY customer\n");
  await mkdir(join(project, "drop"));
  await writeFile(join(project, "drop", "day1.csv"), "id,customer,amount\n1,a,10\n2,b,5\n3,a,2\n");
});
after(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds compiled JavaScript and declarations, and no TypeScript source of Mallard", async () => {
    const files = (await filesUnder(installed)).map((f) => f.slice(installed.length + 1));
    assert.ok(files.includes("dist/bin.js") && files.includes("dist/index.js"), files.join(", "));
    assert.ok(files.includes("dist/types/declare/index.d.ts"));
    assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
  });

  it("imports only packages it declares as dependencies (bundled ones travel inside it)", async () => {
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const file of (await filesUnder(join(installed, "dist"))).filter((f) => f.endsWith(".js"))) {
      const code = await readFile(file, "utf8");
      // A specifier is a package name (and a subpath): minified code has strings ending in "from" too.
      for (const [, specifier] of code.matchAll(/(?:\bfrom|\bimport\(|\brequire\()\s*"((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w.\/-]*)?)"/g)) {
        if (specifier.startsWith("node:") || builtins.has(specifier.split("/")[0])) continue;
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
        if (!(name in manifest.dependencies)) undeclared.add(`${name} (${file.slice(installed.length + 1)})`);
      }
    }
    assert.deepEqual([...undeclared], []);
  });

  it("type-checks a declaration that imports it, with full types", () => {
    const tsc = run(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "."], project);
    assert.equal(tsc.code, 0, tsc.out + tsc.err);
  });

  it("runs and queries the pipeline with plain Node", () => {
    const bin = join(installed, "dist", "bin.js");
    const ran = run(process.execPath, [bin, "run", "--config", "pipeline.ts", "--lake", "lake"], project);
    assert.equal(ran.code, 0, ran.out + ran.err);
    assert.match(ran.out, /succeeded/);
    const query = run(process.execPath, [bin, "query", "select customer, amount from totals order by customer", "--config", "pipeline.ts", "--lake", "lake", "--format", "json"], project);
    assert.equal(query.code, 0, query.err);
    assert.deepEqual(query.out.trim().split("\n").map((line) => JSON.parse(line)), [
      { customer: "a", amount: "12" },
      { customer: "b", amount: "5" },
    ]);
    const counted = run(process.execPath, [bin, "query", "select count(*) AS n, sum(id) AS s from customers", "--config", "pipeline.ts", "--lake", "lake", "--format", "json"], project);
    assert.equal(counted.code, 0, counted.err);
    assert.deepEqual(JSON.parse(counted.out.trim()), { n: "5000", s: "12502500" });
  });
});
