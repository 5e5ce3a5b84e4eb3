// Type fidelity: every mapped PostgreSQL type goes PG → COPY (binary, and CSV) → DuckDB → Parquet and is compared,
// value by value, with the DuckDB value it must become (NULLs, '', Unicode, max-precision numerics,
// microsecond timestamps, ±infinity, BC dates, arrays with NULL elements, jsonb, bytea with zero bytes).
// Runs on the real server and on embedded PGlite.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { quoteIdent, quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { testPostgresKinds } from "../../../helpers/pg.ts";
import { duck, extractAll, type Fixture, openFixture } from "./fixture.ts";

interface Case {
  /** Column type in PostgreSQL DDL. */
  readonly pg: string;
  /** Expected bronze (DuckDB) type. */
  readonly duck: string;
  /** [PostgreSQL input text, DuckDB expression it must equal]; null is SQL NULL on both sides. */
  readonly values: readonly (readonly [string | null, string | null])[];
  /** Expected source type when it differs from `pg` (format_type's spelling). */
  readonly sourceType?: string;
}

const big = "x".repeat(100_000);
// Larger than DuckDB's default 2 MB line limit, which the connector raises.
const hugeJson = JSON.stringify({ blob: "é".repeat(1_500_000) });

const CASES: Readonly<Record<string, Case>> = {
  i2: { pg: "smallint", duck: "SMALLINT", values: [["-32768", "(-32768)::SMALLINT"], ["32767", "32767::SMALLINT"], [null, null]] },
  i4: { pg: "integer", duck: "INTEGER", values: [["-2147483648", "-2147483648"], ["2147483647", "2147483647"], ["0", "0"]] },
  i8: { pg: "bigint", duck: "BIGINT", values: [["-9223372036854775808", "(-9223372036854775808)::BIGINT"], ["9223372036854775807", "9223372036854775807::BIGINT"]] },
  dec38: {
    pg: "numeric(38,10)", duck: "DECIMAL(38,10)",
    values: [
      ["9999999999999999999999999999.9999999999", "'9999999999999999999999999999.9999999999'::DECIMAL(38,10)"],
      ["-0.0000000001", "'-0.0000000001'::DECIMAL(38,10)"],
      ["0", "0::DECIMAL(38,10)"],
      [null, null],
    ],
  },
  // Each width DuckDB stores a DECIMAL in (2, 4, 8 bytes), inline in the decoder up to 12 digits, beyond it not.
  dec4: { pg: "numeric(4,1)", duck: "DECIMAL(4,1)", values: [["-999.9", "'-999.9'::DECIMAL(4,1)"], ["0.1", "'0.1'::DECIMAL(4,1)"], ["0", "0::DECIMAL(4,1)"]] },
  dec9: { pg: "numeric(9,3)", duck: "DECIMAL(9,3)", values: [["-999999.999", "'-999999.999'::DECIMAL(9,3)"], ["10000", "'10000.000'::DECIMAL(9,3)"], ["0.001", "'0.001'::DECIMAL(9,3)"]] },
  dec11: { pg: "numeric(11,0)", duck: "DECIMAL(11,0)", values: [["-99999999999", "'-99999999999'::DECIMAL(11,0)"], ["4294967296", "4294967296::DECIMAL(11,0)"], ["-2147483649", "'-2147483649'::DECIMAL(11,0)"]] },
  dec18: { pg: "numeric(18,4)", duck: "DECIMAL(18,4)", values: [["-99999999999999.9999", "'-99999999999999.9999'::DECIMAL(18,4)"], ["12345678901234.5678", "'12345678901234.5678'::DECIMAL(18,4)"]] },
  dec12: { pg: "numeric(12,2)", duck: "DECIMAL(12,2)", values: [["1234567890.12", "'1234567890.12'::DECIMAL(12,2)"], ["-0.5", "'-0.50'::DECIMAL(12,2)"], ["NaN", null]] },
  num: {
    pg: "numeric", duck: "VARCHAR",
    values: [
      ["123456789012345678901234567890.123456789012345678901234567890", "'123456789012345678901234567890.123456789012345678901234567890'"],
      ["NaN", "'NaN'"],
      ["-Infinity", "'-Infinity'"],
      ["1.50", "'1.50'"],
    ],
  },
  dec50: { pg: "numeric(50,5)", duck: "VARCHAR", values: [["123456789012345678901234567890123456789012345.67891", "'123456789012345678901234567890123456789012345.67891'"]] },
  f4: { pg: "real", duck: "FLOAT", values: [["3.4028235e+38", "'3.4028235e+38'::FLOAT"], ["1e-45", "'1e-45'::FLOAT"], ["0.1", "'0.1'::FLOAT"], ["NaN", "'NaN'::FLOAT"], ["-Infinity", "'-Infinity'::FLOAT"]] },
  f8: {
    pg: "double precision", duck: "DOUBLE",
    values: [["0.1", "0.1::DOUBLE"], ["1.7976931348623157e+308", "1.7976931348623157e+308::DOUBLE"], ["5e-324", "'5e-324'::DOUBLE"], ["Infinity", "'Infinity'::DOUBLE"], ["NaN", "'NaN'::DOUBLE"]],
  },
  bool: { pg: "boolean", duck: "BOOLEAN", values: [["true", "true"], ["false", "false"], [null, null]] },
  txt: {
    pg: "text", duck: "VARCHAR",
    values: [
      ["", "''"],
      [null, null],
      ["héllo wörld 日本語 🦆 \u00a0\u200b", `'héllo wörld 日本語 🦆 \u00a0\u200b'`],
      ["line1\nline2\r\nline3\r", "'line1' || chr(10) || 'line2' || chr(13) || chr(10) || 'line3' || chr(13)"],
      [`comma, "double" and 'single' quotes`, `'comma, "double" and ''single'' quotes'`],
      ["back\\slash \\N \t tab", "'back\\slash \\N ' || chr(9) || ' tab'"],
      ['"', `'"'`],
      [",", "','"],
      ["NULL", "'NULL'"],
      [big, `repeat('x', 100000)`],
    ],
  },
  vc: { pg: "character varying(20)", duck: "VARCHAR", values: [["abc", "'abc'"], ["", "''"]] },
  ch: { pg: "character(5)", duck: "VARCHAR", values: [["ab", "'ab   '"]] },
  d: {
    pg: "date", duck: "DATE",
    values: [["2024-02-29", "DATE '2024-02-29'"], ["infinity", "'infinity'::DATE"], ["-infinity", "'-infinity'::DATE"], ["0044-03-15 BC", "make_date(-43, 3, 15)"], ["9999-12-31", "DATE '9999-12-31'"]],
  },
  ts: {
    pg: "timestamp without time zone", duck: "TIMESTAMP",
    values: [
      ["2024-01-01 12:34:56.123456", "TIMESTAMP '2024-01-01 12:34:56.123456'"],
      ["1970-01-01 00:00:00.000001", "TIMESTAMP '1970-01-01 00:00:00.000001'"],
      ["infinity", "'infinity'::TIMESTAMP"],
      ["-infinity", "'-infinity'::TIMESTAMP"],
      ["0044-03-15 12:00:00.5 BC", "make_timestamp(-43, 3, 15, 12, 0, 0.5)"],
    ],
  },
  tstz: {
    pg: "timestamp with time zone", duck: "TIMESTAMPTZ",
    values: [
      ["2024-06-30 23:59:59.999999+02", "'2024-06-30 21:59:59.999999+00'::TIMESTAMPTZ"],
      ["2000-01-01 00:00:00.000001+00", "'2000-01-01 00:00:00.000001+00'::TIMESTAMPTZ"],
      ["infinity", "'infinity'::TIMESTAMPTZ"],
      ["-infinity", "'-infinity'::TIMESTAMPTZ"],
    ],
  },
  t: { pg: "time without time zone", duck: "TIME", values: [["00:00:00", "TIME '00:00:00'"], ["23:59:59.999999", "TIME '23:59:59.999999'"], ["24:00:00", "'24:00:00'::TIME"]] },
  ttz: { pg: "time with time zone", duck: "VARCHAR", values: [["12:34:56.789+05:30", "'12:34:56.789+05:30'"]] },
  iv: {
    pg: "interval", duck: "VARCHAR",
    values: [
      ["1 year 2 months 3 days 04:05:06.789", "'14 months 3 days 14706789000 microseconds'"],
      ["-1 day +00:00:00.000001", "'0 months -1 days 1 microseconds'"],
      ["-1 year -2 days -03:00:00.5", "'-12 months -2 days -10800500000 microseconds'"],
    ],
  },
  u: { pg: "uuid", duck: "UUID", values: [["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID"], ["00000000-0000-0000-0000-000000000000", "'00000000-0000-0000-0000-000000000000'::UUID"]] },
  j: {
    pg: "json", duck: "JSON",
    values: [
      ['{"b": 1,  "a": [1, 2.50, null], "s": "x\\ny"}', `'{"b": 1,  "a": [1, 2.50, null], "s": "x\\ny"}'::JSON`],
      ["null", "'null'::JSON"],
      ['"str"', `'"str"'::JSON`],
      [hugeJson, `${quoteLiteral(hugeJson)}::JSON`],
    ],
  },
  jb: { pg: "jsonb", duck: "JSON", values: [['{"b":1,"a":"é","n":1.50}', `'{"a": "é", "b": 1, "n": 1.50}'::JSON`], ["[]", "'[]'::JSON"]] },
  by: { pg: "bytea", duck: "BLOB", values: [["\\x", "''::BLOB"], ["\\x00", "unhex('00')"], ["\\x000102ff00", "unhex('000102ff00')"], [null, null]] },
  ia: { pg: "integer[]", duck: "INTEGER[]", values: [["{1,NULL,3}", "[1, NULL, 3]::INTEGER[]"], ["{}", "[]::INTEGER[]"], [null, null]] },
  ta: {
    pg: "text[]", duck: "VARCHAR[]",
    values: [[`{"a,b","c\\"d",NULL,"","é 🦆","x\ny"}`, `['a,b', 'c"d', NULL, '', 'é 🦆', 'x' || chr(10) || 'y']`], [`{"NULL"}`, "['NULL']"]],
  },
  na: { pg: "numeric(10,2)[]", duck: "DECIMAL(10,2)[]", values: [["{1.10,NULL,-99999999.99}", "[1.10, NULL, -99999999.99]::DECIMAL(10,2)[]"]] },
  tsa: {
    pg: "timestamp with time zone[]", duck: "TIMESTAMPTZ[]",
    values: [[`{"2024-01-01 00:00:00.000001+00",infinity,NULL}`, "['2024-01-01 00:00:00.000001+00'::TIMESTAMPTZ, 'infinity'::TIMESTAMPTZ, NULL]"]],
  },
  ba: { pg: "boolean[]", duck: "BOOLEAN[]", values: [["{t,f,NULL}", "[true, false, NULL]"]] },
  ua: { pg: "uuid[]", duck: "UUID[]", values: [["{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID]"]] },
  jba: { pg: "jsonb[]", duck: "JSON[]", values: [[`{"{\\"a\\": 1}",NULL}`, `['{"a": 1}'::JSON, NULL]`]] },
  bya: { pg: "bytea[]", duck: "BLOB[]", values: [[`{"\\\\x00ff",NULL}`, "[unhex('00ff'), NULL]"]] },
  ia2: { pg: "integer[][]", duck: "VARCHAR", sourceType: "integer[]", values: [["{{1,2},{3,4}}", "'{{1,2},{3,4}}'"]] },
  inet: { pg: "inet", duck: "VARCHAR", values: [["192.168.0.1/24", "'192.168.0.1/24'"]] },
};

const kinds = await testPostgresKinds();

// Both wires store the same values: binary (the default) on every kind, CSV on the first (the server when there is one).
const runs = [...kinds.map((kind) => ({ kind, wire: "binary" as const })), { kind: kinds[0], wire: "csv" as const }];

for (const { kind, wire } of runs) {
  describe(`PostgreSQL type fidelity (${kind}, ${wire} wire)`, () => {
    let f: Fixture;
    let schema: string;
    let table: string;
    let relation: string;

    before(async () => {
      f = await openFixture(kind, { wire });
      schema = await f.db.scratchSchema(f.client, "types");
      await f.client.query(`CREATE TYPE ${quoteIdent(schema)}.mood AS ENUM ('sad', 'happy')`);
      await f.client.query(`CREATE DOMAIN ${quoteIdent(schema)}.money2 AS numeric(10,2)`);
      const columns = Object.entries(CASES).map(([name, c]) => `${quoteIdent(name)} ${c.pg}`);
      table = `${quoteIdent(schema)}.${quoteIdent("all types")}`;
      await f.client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, ${columns.join(", ")}, mood ${quoteIdent(schema)}.mood, amount ${quoteIdent(schema)}.money2)`);
      const rows = Math.max(...Object.values(CASES).map((c) => c.values.length));
      for (let i = 0; i < rows; i++) {
        const names = ["id", "mood", "amount"];
        const values = [String(i + 1), i === 0 ? "'happy'" : "NULL", i === 0 ? "'12345678.91'" : "NULL"];
        for (const [name, c] of Object.entries(CASES)) {
          const value = c.values[i]?.[0];
          names.push(quoteIdent(name));
          values.push(value === undefined || value === null ? "NULL" : `CAST(${quoteLiteral(value)} AS ${c.pg})`);
        }
        await f.client.query(`INSERT INTO ${table} (${names.join(", ")}) VALUES (${values.join(", ")})`);
      }
      const described = await f.connector.discover({ kind: "table", table: `${schema}."all types"` });
      // Two rows per chunk, so every type also crosses chunk boundaries.
      const extracted = await extractAll(f, { schema: described, chunkRows: 2 });
      relation = extracted.relation;
    });
    after(() => f.close());

    test("describe maps every type and records the source type", async () => {
      const described = await f.connector.discover({ kind: "table", table: `${schema}."all types"` });
      const byName = new Map(described.columns.map((c) => [c.name, c]));
      for (const [name, c] of Object.entries(CASES)) {
        assert.equal(byName.get(name)?.duckType, c.duck, `${name} ${c.pg}`);
        assert.equal(byName.get(name)?.sourceType, c.sourceType ?? c.pg, `${name} source type`);
      }
      assert.deepEqual(byName.get("mood"), { name: "mood", sourceType: `${schema}.mood`, duckType: "VARCHAR", nullable: true });
      assert.equal(byName.get("amount")?.duckType, "DECIMAL(10,2)", "a domain maps as its base type");
      assert.equal(byName.get("id")?.nullable, false);
      assert.deepEqual(described.address, [schema, "all types"]);
    });

    test("Parquet columns have exactly the mapped types", async () => {
      const types = await duck<{ column_name: string; column_type: string }>(f, `DESCRIBE SELECT * FROM ${relation}`);
      const byName = new Map(types.map((t) => [t.column_name, t.column_type.replaceAll("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")]));
      for (const [name, c] of Object.entries(CASES)) assert.equal(byName.get(name), c.duck, name);
    });

    test("every value round-trips (compared in DuckDB, NULL-aware)", async () => {
      const [{ n }] = await duck<{ n: bigint }>(f, `SELECT count(*) AS n FROM ${relation}`);
      const rows = Math.max(...Object.values(CASES).map((c) => c.values.length));
      assert.equal(Number(n), rows);
      const failures: string[] = [];
      for (const [name, c] of Object.entries(CASES)) {
        for (let i = 0; i < rows; i++) {
          const expected = c.values[i]?.[1] ?? null;
          const col = quoteIdent(name);
          const [row] = await duck<{ same: boolean; got: string | null }>(
            f,
            `SELECT ${col} IS NOT DISTINCT FROM (${expected ?? "NULL"}) AS same, left(${col}::VARCHAR, 80) AS got FROM ${relation} WHERE id = ${i + 1}`,
          );
          if (!row.same) failures.push(`${name} (${c.pg}) row ${i + 1}: got ${row.got} expected ${expected?.slice(0, 80)}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    test("enum and domain values, NaN in numeric(p,s) as NULL, intervals castable back exactly", async () => {
      const [row] = await duck<Record<string, unknown>>(
        f,
        `SELECT mood, amount::VARCHAR AS amount, CAST(iv AS INTERVAL) = INTERVAL '14 months 3 days 14706789000 microseconds' AS iv_ok FROM ${relation} WHERE id = 1`,
      );
      assert.deepEqual(row, { mood: "happy", amount: "12345678.91", iv_ok: true });
      const [nan] = await duck<{ dec12: unknown }>(f, `SELECT dec12 FROM ${relation} WHERE id = 3`);
      assert.equal(nan.dec12, null);
    });

    test("'' and NULL stay distinct in text, arrays and bytea", async () => {
      const rows = await duck<{ id: number; empty: boolean; isnull: boolean }>(
        f,
        `SELECT id, txt = '' AS empty, txt IS NULL AS isnull FROM ${relation} WHERE id IN (1, 2) ORDER BY id`,
      );
      assert.deepEqual(rows.map((r) => [r.empty, r.isnull]), [[true, false], [null, true]]);
      const [arr] = await duck<{ e: string; n: boolean }>(f, `SELECT ta[4] AS e, ta[3] IS NULL AS n FROM ${relation} WHERE id = 1`);
      assert.deepEqual(arr, { e: "", n: true });
      const [b] = await duck<{ len: bigint; isnull: boolean }>(f, `SELECT octet_length("by") AS len, "by" IS NULL AS isnull FROM ${relation} WHERE id = 1`);
      assert.deepEqual([Number(b.len), b.isnull], [0, false]);
    });
  });
}
