// The conformance adapter for PostgreSQL: the real server, or embedded PGlite over the wire protocol.
import pg from "pg";
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { testPostgres, type TestPostgresKind } from "../../../helpers/pg.ts";
import { type ConformanceSource, type Row, sqlScenarioStage, type StageOptions, type TypeCase } from "./harness.ts";

/** Columns of every PostgreSQL type the type map names, one row of values and one of NULLs. */
const TYPES: readonly (TypeCase & { pg: string; value: string })[] = [
  { column: "i2", pg: "smallint", value: "-32768", duckType: "SMALLINT", expected: ["-32768"] },
  { column: "i4", pg: "integer", value: "2147483647", duckType: "INTEGER", expected: ["2147483647"] },
  { column: "i8", pg: "bigint", value: "9223372036854775807", duckType: "BIGINT", expected: ["9223372036854775807"] },
  { column: "dec", pg: "numeric(38,10)", value: "1234567890123456789012345678.0123456789", duckType: "DECIMAL(38,10)", expected: ["'1234567890123456789012345678.0123456789'"] },
  { column: "num", pg: "numeric", value: "3.14159265358979323846264338327950288419716939937510", duckType: "VARCHAR", expected: ["'3.14159265358979323846264338327950288419716939937510'"] },
  { column: "f4", pg: "real", value: "0.1", duckType: "FLOAT", expected: ["'0.1'"] },
  { column: "f8", pg: "double precision", value: "1.7976931348623157e+308", duckType: "DOUBLE", expected: ["1.7976931348623157e+308"] },
  { column: "b", pg: "boolean", value: "true", duckType: "BOOLEAN", expected: ["true"] },
  { column: "t", pg: "text", value: "'héllo, \"world\"\n🦆'", duckType: "VARCHAR", expected: ["'héllo, \"world\"' || chr(10) || '🦆'"] },
  { column: "vc", pg: "varchar(10)", value: "'short'", duckType: "VARCHAR", expected: ["'short'"] },
  { column: "d", pg: "date", value: "'0044-03-15 BC'", duckType: "DATE", expected: ["'0044-03-15 (BC)'"] },
  { column: "ts", pg: "timestamp", value: "'2026-02-28 23:59:59.999999'", duckType: "TIMESTAMP", expected: ["'2026-02-28 23:59:59.999999'"] },
  { column: "tstz", pg: "timestamptz", value: "'2026-06-01 12:00:00.123456+02'", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-06-01 10:00:00.123456+00'"] },
  { column: "tm", pg: "time", value: "'23:59:59.999999'", duckType: "TIME", expected: ["'23:59:59.999999'"] },
  { column: "tmtz", pg: "timetz", value: "'12:00:00+05:30'", duckType: "VARCHAR", expected: ["'12:00:00+05:30'"] },
  { column: "iv", pg: "interval", value: "'1 year 2 days 3 hours'", duckType: "VARCHAR", expected: ["'12 months 2 days 10800000000 microseconds'"] },
  { column: "u", pg: "uuid", value: "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", duckType: "UUID", expected: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"] },
  { column: "j", pg: "json", value: `'{"b": 1, "a": [1, 2]}'`, duckType: "JSON", expected: [`'{"b": 1, "a": [1, 2]}'`] },
  { column: "jb", pg: "jsonb", value: `'{"n": 12345678901234567890}'`, duckType: "JSON", expected: [`'{"n": 12345678901234567890}'`] },
  { column: "by", pg: "bytea", value: "'\\x00ff10'::bytea", duckType: "BLOB", expected: ["'\\x00\\xFF\\x10'::BLOB"] },
  { column: "ia", pg: "integer[]", value: "'{1,NULL,3}'", duckType: "INTEGER[]", expected: ["[1, NULL, 3]"] },
  { column: "ta", pg: "text[]", value: `'{"a,b",NULL,""}'`, duckType: "VARCHAR[]", expected: ["['a,b', NULL, '']"] },
  { column: "en", pg: "mood", value: "'happy'", duckType: "VARCHAR", expected: ["'happy'"] },
  { column: "inet", pg: "inet", value: "'192.168.0.1/24'", duckType: "VARCHAR", expected: ["'192.168.0.1/24'"] },
];

export async function postgresSource(kind: TestPostgresKind): Promise<ConformanceSource> {
  const server = await testPostgres({ kind });
  const client = new pg.Client(server.url);
  client.on("error", () => {});
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
  const schema = await server.scratchSchema(client, "conformance");
  const q = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const db = (chunkRows: number) => source.postgres(`pg_${kind}`, { connection: server.url, chunkRows });
  const json = (rows: readonly Row[]) => JSON.stringify(rows.map((r) => ({ ...r, updatedAt: `${r.updatedAt}+00` })));
  const columns = "x(id bigint, \"updatedAt\" timestamptz, name text, amount numeric(12,2), extra text)";
  return {
    name: `PostgreSQL (${kind})`,
    async create(table) {
      await client.query(`CREATE TABLE ${q(table)} (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, name text, amount numeric(12,2))`);
    },
    async insert(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      await client.query(`INSERT INTO ${q(table)} (id, updated_at, name, amount${extra ? ", extra" : ""}) ` +
        `SELECT id, "updatedAt", name, amount${extra ? ", extra" : ""} FROM json_to_recordset($1) AS ${columns}`, [json(rows)]);
    },
    async update(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      await client.query(`UPDATE ${q(table)} t SET updated_at = x."updatedAt", name = x.name, amount = x.amount${extra ? ", extra = x.extra" : ""} ` +
        `FROM json_to_recordset($1) AS ${columns} WHERE t.id = x.id`, [json(rows)]);
    },
    async remove(table, ids) {
      await client.query(`DELETE FROM ${q(table)} WHERE id = ANY($1::bigint[])`, [ids]);
    },
    async addExtra(table) {
      await client.query(`ALTER TABLE ${q(table)} ADD COLUMN extra text`);
    },
    async sourceRows(table) {
      const has = (await client.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'extra'`, [schema, table])).rowCount;
      const result = await client.query<{ id: string; updatedAt: string; name: string | null; amount: string | null; extra?: string | null }>(
        `SELECT id::text AS id, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS "updatedAt", name, amount::text AS amount${has ? ", extra" : ""} FROM ${q(table)} ORDER BY id`);
      return result.rows.map((r) => ({ ...r, id: Number(r.id) }));
    },
    stage: (table, options: StageOptions) => sqlScenarioStage(db(options.chunkRows), `${schema}.${table}`, options),
    types: [{
      label: "the type map",
      cases: TYPES,
      async create(table) {
        await client.query(`DO $$ BEGIN CREATE TYPE ${quoteIdent(schema)}.mood AS ENUM ('sad', 'happy'); EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
        await client.query(`SET search_path = ${quoteIdent(schema)}, public`);
        await client.query(`CREATE TABLE ${q(table)} (id int PRIMARY KEY, ${TYPES.map((c) => `${quoteIdent(c.column)} ${c.pg}`).join(", ")})`);
        await client.query(`INSERT INTO ${q(table)} VALUES (1, ${TYPES.map((c) => c.value).join(", ")}), (2, ${TYPES.map(() => "NULL").join(", ")})`);
      },
      stage: (table) => bronze.table(db(100), { table: `${schema}.${table}`, name: `types_${table}`, primaryKey: "id" }),
    }],
    async close() {
      await client.end().catch(() => {});
      await server.close();
    },
  };
}
