// Shared set-up for the PostgreSQL connector tests: a database (server or PGlite), a pg client, a DuckDB
// engine, and helpers to extract into Parquet and read it back.

import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import type { Chunk, CursorPosition, ReadRequest } from "../../../../runtime/sources/source.ts";
import { createPostgresConnector, type PostgresConnector, type PostgresConnectorOptions } from "../../../../runtime/sources/postgres/index.ts";
import { type TestPostgres, testPostgres, type TestPostgresKind } from "../../../helpers/pg.ts";
import { tmpdir } from "node:os";

export interface Fixture {
  readonly db: TestPostgres;
  readonly client: pg.Client;
  readonly engine: Engine;
  readonly connector: PostgresConnector;
  /** Where kept chunk files go (the connector removes its own after each yield). */
  readonly keepDir: string;
  close(): Promise<void>;
}

export async function openFixture(kind: TestPostgresKind, options: PostgresConnectorOptions = {}): Promise<Fixture> {
  const db = await testPostgres({ kind });
  const client = new pg.Client(db.url);
  client.on("error", () => {});
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
  const engine = await Engine.create({ memoryLimit: "512MB", threads: 2 }, { directories: [tmpdir()] });
  const connector = createPostgresConnector(db.url, options);
  const keepDir = await mkdtemp(join(engine.workDir, "kept-"));
  return {
    db, client, engine, connector, keepDir,
    async close() {
      await connector.close();
      await client.end().catch(() => {});
      await db.close();
      await engine.close();
    },
  };
}

export interface Extracted {
  readonly chunks: (Chunk & { kept: string })[];
  /** DuckDB `read_parquet([...])` over every kept chunk, in order. */
  readonly relation: string;
}

let kept = 0;

/** A read request with its incremental part as a cursor spec, made into a slice the way bronze makes it. */
export type TestRequest = Omit<ReadRequest, "workDir" | "slice"> & {
  cursor?: { columns: readonly string[]; after?: CursorPosition; lookBackSeconds?: number; until?: CursorPosition };
};

/** Run an extraction to the end, copying each chunk's file before the connector removes it. */
export async function extractAll(
  f: Fixture,
  request: TestRequest,
  options: { connector?: PostgresConnector; stopAfter?: number } = {},
): Promise<Extracted> {
  const chunks: (Chunk & { kept: string })[] = [];
  const connector = options.connector ?? f.connector;
  const { cursor, ...rest } = request;
  const slice = cursor && cursorSlice(rest.schema, cursor, cursor.after, cursor.until, (c) => connector.refuseCursor(c));
  for await (const chunk of connector.read({ ...rest, slice, workDir: f.engine.workDir }, f.engine)) {
    // A chunk of no rows carries only warnings (and no file).
    if (chunk.rows === 0) {
      chunks.push({ ...chunk, kept: "" });
      continue;
    }
    const keptFile = join(f.keepDir, `kept-${++kept}.parquet`);
    await copyFile(chunk.file, keptFile);
    chunks.push({ ...chunk, kept: keptFile });
    if (options.stopAfter !== undefined && chunks.length >= options.stopAfter) break;
  }
  const files = chunks.filter((c) => c.kept).map((c) => quoteLiteral(c.kept));
  return { chunks, relation: files.length ? `read_parquet([${files.join(", ")}])` : "(SELECT NULL WHERE false)" };
}

export async function duck<T = Record<string, unknown>>(f: Fixture, sql: string): Promise<T[]> {
  return f.engine.withConnection((con) => queryRows<T>(con, sql));
}

/** Chunk folders the connector left in the engine's work folder (there should be none). */
export async function leftovers(f: Fixture): Promise<string[]> {
  return (await readdir(f.engine.workDir)).filter((name) => name.startsWith("chunks-"));
}

export async function removeKept(f: Fixture): Promise<void> {
  await rm(f.keepDir, { recursive: true, force: true });
}
