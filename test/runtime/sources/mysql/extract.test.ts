// The MariaDB connector's read on the real server: chunks of at most chunkRows, each carrying the
// cursor it reaches (exact, beyond 2^63), a projection (what a key scan reads), a stop after the first
// chunk that ends the server's query at once, and `mallard run --config pipeline.yml` with the
// connection in a secret: the CLI's whole path, one line on failure with no password in it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { secretEnvName } from "../../../../runtime/secrets/secrets.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { createMysqlConnector, type MysqlConnector } from "../../../../runtime/sources/mysql/index.ts";
import { mallardArgs } from "../../../helpers/cli.ts";
import { testMariadb, type TestMariadb } from "../../../helpers/mariadb.ts";

let db: TestMariadb;
let engine: Engine;
let connector: MysqlConnector;

before(async () => {
  db = await testMariadb("extract");
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
  connector = createMysqlConnector(db.url, { flavor: "mariadb" });
  await db.sql.query("CREATE TABLE big (id bigint unsigned PRIMARY KEY, grp int NOT NULL, payload varchar(200))");
  await db.sql.query("INSERT INTO big SELECT 9223372036854775807 + seq, seq DIV 1000, REPEAT('x', 150) FROM seq_1_to_60000");
});
after(async () => {
  await connector.close();
  await db.close();
  await engine.close();
});

describe("MariaDB read", () => {
  test("chunks of chunkRows in cursor order, each with the exact cursor it reaches; a projection reads only its columns", async () => {
    const schema = await connector.discover({ kind: "table", table: "big" });
    const slice = cursorSlice(schema, { columns: ["grp", "id"] }, { columns: ["grp", "id"], values: ["9", "9223372036854784806"] });
    const chunks = [];
    for await (const chunk of connector.read({ schema, slice, columns: ["id", "grp"], chunkRows: 20_000, workDir: engine.workDir }, engine)) chunks.push(chunk);
    // Rows after (9, 2^63 - 1 + 8999): group 9 is seq 9000-9999, and seq 60000 is the one row of group 60.
    assert.deepEqual(chunks.map((c) => c.rows), [20_000, 20_000, 11_001]);
    assert.deepEqual(chunks.map((c) => c.lastCursor?.values), [["28", "9223372036854804806"], ["48", "9223372036854824806"], ["60", "9223372036854835807"]]);
  });

  test("a TIMESTAMP cursor with look-back and a DOUBLE cursor: exact bounds, whatever the server's time zone", async () => {
    await db.sql.query("CREATE TABLE ticks (id int PRIMARY KEY, at timestamp(6) NULL, score double)");
    // Inserted at +05:00: the instants are 05:00:00.000001 UTC and on.
    await db.sql.query("SET time_zone = '+05:00'");
    await db.sql.query("INSERT INTO ticks VALUES (1, '2026-01-01 10:00:00.000001', 0.1), (2, '2026-01-01 10:00:00.000002', 0.30000000000000004), (3, '2026-01-01 10:30:00', 0.3), (4, NULL, 1e300)");
    await db.sql.query("SET time_zone = '+00:00'");
    const schema = await connector.discover({ kind: "table", table: "ticks" });
    const read = async (columns: string[], after: string[], lookBackSeconds?: number) => {
      const slice = cursorSlice(schema, { columns, lookBackSeconds }, { columns, values: after });
      const ids: number[] = [];
      let last: readonly (string | null)[] | undefined;
      for await (const chunk of connector.read({ schema, slice, chunkRows: 10, workDir: engine.workDir }, engine)) {
        last = chunk.lastCursor?.values;
        const rows = await engine.withConnection((con) => queryRows<{ id: number }>(con, `SELECT id FROM read_parquet(${quoteLiteral(chunk.file)}) ORDER BY id`));
        ids.push(...rows.map((r) => r.id));
      }
      return { ids, last };
    };
    assert.deepEqual(await read(["at"], ["2026-01-01 05:00:00.000001"]), { ids: [2, 3], last: ["2026-01-01 05:30:00.000000"] });
    // Look-back moves the exclusive lower bound to 05:00:00 exactly, then to one microsecond later.
    assert.deepEqual((await read(["at"], ["2026-01-01 05:30:00.000000"], 1800)).ids, [1, 2, 3]);
    assert.deepEqual((await read(["at"], ["2026-01-01 05:30:00.000000"], 1799.999999)).ids, [2, 3]);
    assert.deepEqual(await read(["score"], ["0.3"]), { ids: [2, 4], last: ["1e300"] });
  });

  test("stopping after the first chunk ends the server's query and the load", async () => {
    const schema = await connector.discover({ kind: "table", table: "big" });
    const started = performance.now();
    for await (const chunk of connector.read({ schema, chunkRows: 5_000, workDir: engine.workDir }, engine)) {
      assert.equal(chunk.rows, 5_000);
      break;
    }
    assert.ok(performance.now() - started < 30_000);
    // The reading connection is gone: no query of ours is left on the server.
    for (let i = 0; i < 50; i++) {
      const [rows] = await db.sql.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT `id`, `grp`, `payload` FROM%'");
      if (Number((rows as { n: number }[])[0].n) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [left] = await db.sql.query("SELECT ID, COMMAND, STATE, TIME, LEFT(INFO, 60) AS INFO FROM information_schema.PROCESSLIST");
    assert.fail(`the extraction's query is still running on the server: ${JSON.stringify(left)}`);
  });
});

describe("mallard run with a MariaDB source", () => {
  test("a YAML pipeline loads the table; a wrong password is one line without the password", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mallard-maria-cli-"));
    try {
      await writeFile(join(dir, "pipeline.yml"), `
name: shop
schedule: "0 0 * * * *"
sources:
  shop: { kind: mariadb, connection: { secret: shop-db } }
stages:
  - bronze: big
    source: shop
    table: ${db.database}.big
    primaryKey: id
    incremental: { cursor: [grp, id] }
`);
      const run = (url: string) => spawnSync(process.execPath, mallardArgs(["run", "--config", "pipeline.yml", "--lake", "lake"]), {
        cwd: dir, encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1", [secretEnvName("shop-db")]: url },
      });
      const ok = run(db.url);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout + ok.stderr, /60,000|60000/);
      const bad = run(db.url.replace("root@", "nobody:hunter2@"));
      assert.equal(bad.status, 1);
      assert.doesNotMatch(bad.stdout + bad.stderr, /hunter2/);
      assert.match(bad.stdout + bad.stderr, /cannot connect to mysql:\/\/nobody@127\.0\.0\.1:3306\/mallard_extract_\w+: Access denied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
