// An embedded PostgreSQL for the demo and for laptops without a server: PGlite (Postgres compiled to
// WASM) served over the real wire protocol, so the `pg` + COPY code path is the one production uses.

import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { mkdir } from "node:fs/promises";

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (no password: it listens on loopback only). */
  readonly url: string;
  readonly db: PGlite;
  close(): Promise<void>;
}

/** Start PGlite (in memory, or persisted in `dataDir`) and serve it on a free loopback port. */
export async function startEmbeddedPostgres(options: { dataDir?: string; maxConnections?: number } = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ?? "memory://");
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: options.maxConnections ?? 16 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    db,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
