// The conformance adapter for file drops: a local folder where each change arrives as a new CSV file
// (a file drop only adds files; a full load rereads them all, so a "delete" rewrites the files without
// the row). The type map is checked per format: CSV, JSON lines, Parquet and Excel.
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { Engine } from "../../../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../../../runtime/engine/sql.ts";
import type { ConformanceSource, Row, StageOptions, TypeTable } from "./harness.ts";

const csvField = (v: string | null | undefined) => (v === null || v === undefined ? "" : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export async function filesSource(): Promise<ConformanceSource> {
  const folder = await mkdtemp(join(tmpdir(), "mallard-conformance-files-"));
  const tables = new Map<string, { files: { name: string; rows: Row[] }[]; extra: boolean }>();
  let seq = 0;
  const drops = (chunkRows: number) => source.files("drop", { folder, chunkRows });
  // Files older than the drop's settle time, so a run reads them at once.
  const settled = async (path: string) => {
    const past = new Date(Date.now() - 3_600_000 + seq * 1000);
    await utimes(path, past, past);
  };
  const writeCsv = async (table: string, name: string, rows: readonly Row[]) => {
    const extra = tables.get(table)!.extra;
    const header = `id,updated_at,name,amount${extra ? ",extra" : ""}`;
    const lines = rows.map((r) => [String(r.id), r.updatedAt, csvField(r.name), r.amount ?? "", ...(extra ? [csvField(r.extra)] : [])].join(","));
    const path = join(folder, table, name);
    await writeFile(path, [header, ...lines].join("\n") + "\n");
    await settled(path);
  };
  const add = async (table: string, rows: readonly Row[]) => {
    const name = `${String(++seq).padStart(5, "0")}.csv`;
    tables.get(table)!.files.push({ name, rows: [...rows] });
    await writeCsv(table, name, rows);
  };
  const stageOf = (table: string, options: StageOptions): BronzeTable => bronze.files(drops(options.chunkRows), {
    name: options.name, pattern: `${table}/*.csv`, primaryKey: "id", load: options.incremental ? "incremental" : "full",
    types: { amount: "DECIMAL(12,2)", updated_at: "TIMESTAMP" },
  });
  return {
    name: "files",
    cannot: {
      deletes: "a file drop only adds rows: deletes reach bronze by a full load (the full-load scenario), not by a key scan",
    },
    async create(table) {
      await mkdir(join(folder, table), { recursive: true });
      tables.set(table, { files: [], extra: false });
    },
    insert: add,
    // A changed row arrives in a new file: later files are newer.
    update: add,
    async remove(table, ids) {
      for (const file of tables.get(table)!.files) {
        file.rows = file.rows.filter((r) => !ids.includes(r.id));
        await writeCsv(table, file.name, file.rows);
      }
    },
    async addExtra(table) {
      tables.get(table)!.extra = true;
    },
    async sourceRows(table) {
      const latest = new Map<number, Row>();
      for (const file of tables.get(table)!.files) for (const r of file.rows) latest.set(r.id, r);
      return [...latest.values()];
    },
    stage: stageOf,
    types: await typeTables(folder, drops, settled),
    async close() {
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** One small file per format, holding a value of each type its reader maps, and a row of empties. */
async function typeTables(folder: string, drops: (chunkRows: number) => ReturnType<typeof source.files>, settled: (path: string) => Promise<void>): Promise<TypeTable[]> {
  const stage = (table: string, pattern: string) => bronze.files(drops(100), { name: `types_${table}`, pattern: `${table}/${pattern}`, primaryKey: "id", load: "full" });
  const file = async (table: string, name: string, text: string | Buffer) => {
    await mkdir(join(folder, table), { recursive: true });
    await writeFile(join(folder, table, name), text);
    await settled(join(folder, table, name));
  };
  return [
    {
      label: "CSV",
      async create(table) {
        await file(table, "a.csv", [
          "id,int,huge,float,bool,day,time,text",
          `1,-9223372036854775808,99999999999999999999999,0.1,true,2026-02-28,2026-02-28 23:59:59.5,"a, ""quoted"" text"`,
          "2,,,,,,,",
        ].join("\n") + "\n");
      },
      cases: [
        { column: "int", duckType: "BIGINT", expected: ["-9223372036854775808"] },
        { column: "huge", duckType: "DECIMAL(38,0)", expected: ["99999999999999999999999"] },
        { column: "float", duckType: "DOUBLE", expected: ["0.1"] },
        { column: "bool", duckType: "BOOLEAN", expected: ["true"] },
        { column: "day", duckType: "DATE", expected: ["'2026-02-28'"] },
        { column: "time", duckType: "TIMESTAMP", expected: ["'2026-02-28 23:59:59.5'"] },
        { column: "text", duckType: "VARCHAR", expected: [`'a, "quoted" text'`] },
      ],
      stage: (table) => stage(table, "*.csv"),
    },
    {
      label: "JSON lines",
      async create(table) {
        await file(table, "a.jsonl", [
          `{"id":1,"int":9223372036854775807,"float":2.5,"bool":false,"text":"é🦆","obj":{"a":[1,2]},"list":[1,2]}`,
          `{"id":2,"int":null,"float":null,"bool":null,"text":null,"obj":null,"list":null}`,
        ].join("\n") + "\n");
      },
      cases: [
        { column: "int", duckType: "BIGINT", expected: ["9223372036854775807"] },
        { column: "float", duckType: "DOUBLE", expected: ["2.5"] },
        { column: "bool", duckType: "BOOLEAN", expected: ["false"] },
        { column: "text", duckType: "VARCHAR", expected: ["'é🦆'"] },
        { column: "obj", duckType: "JSON", expected: [`'{"a":[1,2]}'`] },
        { column: "list", duckType: "JSON", expected: ["'[1,2]'"] },
      ],
      stage: (table) => stage(table, "*.jsonl"),
    },
    {
      label: "Parquet",
      async create(table) {
        await mkdir(join(folder, table), { recursive: true });
        const path = join(folder, table, "a.parquet");
        const engine = await Engine.create({ memoryLimit: "128MB", threads: 1 }, { directories: [join(folder, table)] });
        try {
          await engine.withConnection((con) => con.run(
            `COPY (SELECT 1 AS id, 7::INTEGER AS i4, 12.5::DECIMAL(12,2) AS dec, '2026-01-01 10:00:00+00'::TIMESTAMPTZ AS tstz, DATE '2026-01-01' AS day, '\\x00\\xFF'::BLOB AS bytes, 'x' AS text ` +
              `UNION ALL SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL) TO ${quoteLiteral(path)} (FORMAT parquet)`));
        } finally {
          await engine.close();
        }
        await settled(path);
      },
      cases: [
        { column: "i4", duckType: "INTEGER", expected: ["7"] },
        { column: "dec", duckType: "DECIMAL(12,2)", expected: ["12.5"] },
        { column: "tstz", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-01-01 10:00:00+00'"] },
        { column: "day", duckType: "DATE", expected: ["'2026-01-01'"] },
        { column: "bytes", duckType: "BLOB", expected: ["'\\x00\\xFF'::BLOB"] },
        { column: "text", duckType: "VARCHAR", expected: ["'x'"] },
      ],
      stage: (table) => stage(table, "*.parquet"),
    },
    {
      label: "Excel",
      async create(table) {
        const book = new ExcelJS.Workbook();
        const sheet = book.addWorksheet("items");
        sheet.addRow(["id", "int", "float", "when", "bool", "text"]);
        sheet.addRow([1, 42, 0.25, new Date(Date.UTC(2026, 1, 28, 12, 30)), true, "héllo"]);
        sheet.addRow([2, null, null, null, null, null]);
        await file(table, "a.xlsx", Buffer.from(await book.xlsx.writeBuffer()));
      },
      cases: [
        { column: "int", duckType: "BIGINT", expected: ["42"] },
        { column: "float", duckType: "DOUBLE", expected: ["0.25"] },
        { column: "when", duckType: "TIMESTAMP", expected: ["'2026-02-28 12:30:00'"] },
        { column: "bool", duckType: "BOOLEAN", expected: ["true"] },
        { column: "text", duckType: "VARCHAR", expected: ["'héllo'"] },
      ],
      stage: (table) => stage(table, "*.xlsx"),
    },
  ];
}
