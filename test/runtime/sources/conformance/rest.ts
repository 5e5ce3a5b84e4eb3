// The conformance adapter for REST: one local HTTP API per table (test/helpers/rest-api.ts) serving its
// records in cursor order, paged by a cursor in the body, filtered by `updated_since`.
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { type ApiRecord, startApi, type TestApi } from "../../../helpers/rest-api.ts";
import type { ConformanceSource, Row, StageOptions, TypeCase } from "./harness.ts";

const iso = (time: string) => `${time.replace(" ", "T")}.000Z`;

/** One record of every kind of the JSON type map (README, runtime/sources/rest/types.ts); record 2 has nulls. */
const TYPES: readonly (TypeCase & { json: string })[] = [
  { column: "int64", json: "-9223372036854775808", duckType: "BIGINT", expected: ["-9223372036854775808"] },
  { column: "int38", json: "99999999999999999999999999999999999999", duckType: "DECIMAL(38,0)", expected: ["99999999999999999999999999999999999999"] },
  { column: "bigger", json: "123456789012345678901234567890123456789012", duckType: "VARCHAR", expected: ["'123456789012345678901234567890123456789012'"] },
  { column: "float", json: "0.1", duckType: "DOUBLE", expected: ["0.1"] },
  { column: "bool", json: "true", duckType: "BOOLEAN", expected: ["true"] },
  { column: "tstz", json: `"2026-06-01T12:00:00.123456+02:00"`, duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-06-01 10:00:00.123456+00'"] },
  { column: "ts", json: `"2026-06-01T12:00:00.5"`, duckType: "TIMESTAMP", expected: ["'2026-06-01 12:00:00.5'"] },
  { column: "day", json: `"2026-02-28"`, duckType: "DATE", expected: ["'2026-02-28'"] },
  { column: "text", json: `"héllo, \\"world\\"\\n🦆"`, duckType: "VARCHAR", expected: [`'héllo, "world"' || chr(10) || '🦆'`] },
  { column: "obj", json: `{"n": 12345678901234567890, "a": [1]}`, duckType: "JSON", expected: [`'{"n":12345678901234567890,"a":[1]}'`] },
  { column: "mixed", json: `"7"`, duckType: "VARCHAR", expected: ["'7'", "'7'"] },
  { column: "nothing", json: "null", duckType: "VARCHAR", expected: ["NULL"] },
];

export async function restSource(): Promise<ConformanceSource> {
  const tables = new Map<string, { api: TestApi; rows: Map<number, Row>; records?: ApiRecord[] }>();
  const open = async (table: string, records?: ApiRecord[]) => {
    const entry = { api: undefined as unknown as TestApi, rows: new Map<number, Row>(), records };
    entry.api = await startApi({ records: () => entry.records ?? served(entry.rows), paginate: "cursor", pageSize: 7 });
    tables.set(table, entry);
  };
  const served = (rows: Map<number, Row>): ApiRecord[] =>
    [...rows.values()].sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : a.id - b.id)).map((r) => ({
      json: JSON.stringify({ id: r.id, updated_at: iso(r.updatedAt), name: r.name, ...(r.extra !== undefined ? { extra: r.extra } : {}) }).replace(/}$/, `,"amount":${r.amount ?? "null"}}`),
      updatedAt: iso(r.updatedAt),
    }));
  const api = (table: string, chunkRows: number) => source.rest("api", { baseUrl: `${tables.get(table)!.api.url}/v1`, retry: { backoff: "0.05 seconds" }, chunkRows });
  const paginate = { kind: "cursor", field: "meta.next_cursor", param: "after" } as const;
  return {
    name: "REST",
    create: (table) => open(table),
    async insert(table, rows) {
      for (const r of rows) tables.get(table)!.rows.set(r.id, r);
    },
    async update(table, rows) {
      const held = tables.get(table)!.rows;
      for (const r of rows) held.set(r.id, { ...held.get(r.id), ...r });
    },
    async remove(table, ids) {
      for (const id of ids) tables.get(table)!.rows.delete(id);
    },
    async addExtra(table) {
      const held = tables.get(table)!.rows;
      for (const [id, r] of held) held.set(id, { ...r, extra: r.extra ?? null });
    },
    async sourceRows(table) {
      return [...tables.get(table)!.rows.values()];
    },
    stage(table, options: StageOptions): BronzeTable {
      return bronze.endpoint(api(table, options.chunkRows), {
        name: options.name, path: "/items", records: "data", paginate, primaryKey: "id", types: { amount: "DECIMAL(12,2)" },
        incremental: options.incremental ? { cursor: ["updated_at", "id"], param: "updated_since", format: "iso", ordered: true, lookBack: options.lookBack } : undefined,
        deletes: options.deletes ? "keyScan" : undefined,
      });
    },
    types: [{
      label: "the type map",
      cases: TYPES,
      async create(table) {
        const mixed = TYPES.map((c) => `"${c.column}":${c.column === "mixed" ? "7" : "null"}`).join(",");
        // Record 2's "mixed" is a number beside record 1's string: mixed kinds are VARCHAR.
        await open(table, [
          { json: `{"id":1,${TYPES.map((c) => `"${c.column}":${c.json}`).join(",")}}` },
          { json: `{"id":2,${mixed}}` },
        ]);
      },
      stage: (table) => bronze.endpoint(api(table, 100), { name: `types_${table}`, path: "/items", records: "data", paginate, primaryKey: "id" }),
    }],
    async close() {
      for (const { api: server } of tables.values()) await server.close();
    },
  };
}
