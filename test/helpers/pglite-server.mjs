// Embedded PostgreSQL for tests when no server is reachable: PGlite served over the wire protocol, in its
// own process so a test that blocks its event loop (spawnSync) or burns CPU does not stall the database.
// Prints one JSON line {"port": N} when listening; exits when its stdin closes (the parent went away).

import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const db = await PGlite.create();
const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: 32 });
await server.start();
const port = Number(server.getServerConn().split(":").pop());
process.stdout.write(`${JSON.stringify({ port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  await db.close().catch(() => {});
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
