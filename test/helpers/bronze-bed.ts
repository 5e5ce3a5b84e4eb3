// What bronze stage tests share: a PostgreSQL (server or PGlite) with a scratch schema and a client on
// it, a DuckDB engine, and a scratch local lake; `close()` tears all of it down.
import pg from "pg";
import type { BronzeTable } from "../../runtime/declare/stages.ts";
import { Engine, lakeAccess } from "../../runtime/engine/engine.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import type { BronzeState } from "../../runtime/state/bronze-state.ts";
import { readBronzeTable } from "../../runtime/stages/bronze-table/state.ts";
import { scratchLake } from "./lake.ts";
import { testPostgres, type TestPostgres } from "./pg.ts";

export interface BronzeBed {
  readonly server: TestPostgres;
  readonly client: pg.Client;
  readonly schema: string;
  readonly engine: Engine;
  readonly scratch: Awaited<ReturnType<typeof scratchLake>>;
  close(): Promise<void>;
}

export async function bronzeBed(prefix: string): Promise<BronzeBed> {
  const server = await testPostgres();
  const client = new pg.Client(server.url);
  await client.connect();
  const schema = await server.scratchSchema(client, prefix);
  const scratch = await scratchLake();
  // What a run gives its engine: the lake's table folders, nothing more.
  const engine = await Engine.create({ memoryLimit: "512MB", threads: 1 }, lakeAccess(scratch.lake));
  return {
    server, client, schema, engine, scratch,
    async close() {
      await client.end();
      await server.close();
      await engine.close();
      await scratch.dispose();
    },
  };
}

/** A bronze stage's committed state, as its table's Delta log carries it. */
export async function bronzeState(engine: Engine, lake: Lake, pipeline: string, stage: BronzeTable): Promise<BronzeState | undefined> {
  return (await engine.withConnection((con) => readBronzeTable(lake, con, pipeline, stage))).state;
}
