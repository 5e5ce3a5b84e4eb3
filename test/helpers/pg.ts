// PostgreSQL for tests: the real server at MALLARD_TEST_PG_URL when it answers, otherwise an embedded
// PGlite served over the wire protocol from a child process (so the same `pg` code paths run), and
// scratch schemas with unique names that are dropped afterwards.
//
//   const pg = await testPostgres();            // { url, kind: "server" | "pglite", scratchSchema, close }
//   const schema = await pg.scratchSchema(client, "bronze");   // e.g. "bronze_k3x9q2", lowercase, plain
//   ...
//   await pg.close();
//
// PGlite is one session shared by every connection: a connection inside a transaction (an extraction in
// progress) makes the others wait until it ends, and SET applies to all of them.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { quoteIdent } from "../../runtime/engine/sql.ts";

export type TestPostgresKind = "server" | "pglite";

export interface TestPostgres {
  /** Connection string for `pg` and for a `source.postgres` declaration. */
  readonly url: string;
  readonly kind: TestPostgresKind;
  /**
   * Create a schema with a unique lowercase name starting with `prefix` and return the name (plain:
   * usable unquoted in `${schema}.table`). Dropped with everything in it by `close()`.
   */
  scratchSchema(client?: pg.Client, prefix?: string): Promise<string>;
  /** Drop the scratch schemas; stop the embedded server if this started one. */
  close(): Promise<void>;
}

export const DEFAULT_TEST_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/** The server tests use: MALLARD_TEST_PG_URL, else PostgreSQL on loopback with trust auth. */
export function testServerUrl(): string {
  return process.env.MALLARD_TEST_PG_URL || DEFAULT_TEST_PG_URL;
}

const announced = new Set<string>();

/**
 * A PostgreSQL to test against. Without `kind`: the server when reachable, else PGlite (and says so once
 * per process). `MALLARD_TEST_PG=pglite` forces the embedded one; `kind` forces either.
 */
export async function testPostgres(options: { kind?: TestPostgresKind } = {}): Promise<TestPostgres> {
  const forced = options.kind ?? (process.env.MALLARD_TEST_PG === "pglite" ? "pglite" : undefined);
  if (forced !== "pglite") {
    const url = testServerUrl();
    const problem = await unreachable(url);
    if (!problem) return wrap(url, "server", async () => {});
    if (forced === "server") throw new Error(`PostgreSQL server ${redactUrl(url)} is not reachable: ${problem}`);
    note(`PostgreSQL server ${redactUrl(url)} not reachable (${problem}): testing against embedded PGlite instead`);
  }
  if (forced === "pglite" && !options.kind) note("MALLARD_TEST_PG=pglite: testing against embedded PGlite");
  const embedded = await startPglite();
  return wrap(embedded.url, "pglite", embedded.stop);
}

/** The kinds available here: both when the server answers, PGlite alone otherwise (and says so). */
export async function testPostgresKinds(): Promise<TestPostgresKind[]> {
  if (process.env.MALLARD_TEST_PG === "pglite") {
    note("MALLARD_TEST_PG=pglite: these tests run on embedded PGlite only");
    return ["pglite"];
  }
  const problem = await unreachable(testServerUrl());
  if (problem) note(`PostgreSQL server ${redactUrl(testServerUrl())} not reachable (${problem}): these tests run on embedded PGlite only`);
  return problem ? ["pglite"] : ["server", "pglite"];
}

function note(message: string): void {
  if (announced.has(message)) return;
  announced.add(message);
  console.log(message);
}

/** Undefined when the server accepts a connection within 3 s, else why not. */
async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    const e = error as Error & { code?: string; errors?: Error[] };
    return e.code ?? e.errors?.[0]?.message ?? e.message;
  } finally {
    await client.end().catch(() => {});
  }
}

function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

function wrap(url: string, kind: TestPostgresKind, stop: () => Promise<void>): TestPostgres {
  const schemas: string[] = [];
  return {
    url,
    kind,
    async scratchSchema(client, prefix = "scratch") {
      const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, "_")}_${randomBytes(5).toString("hex")}`;
      await withClient(url, client, (c) => c.query(`CREATE SCHEMA ${quoteIdent(name)}`));
      schemas.push(name);
      return name;
    },
    async close() {
      if (schemas.length) {
        await withClient(url, undefined, async (c) => {
          for (const name of schemas.splice(0)) await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
        }).catch((error: unknown) => console.log(`could not drop scratch schemas: ${(error as Error).message}`));
      }
      await stop();
    },
  };
}

async function withClient<T>(url: string, client: pg.Client | undefined, body: (c: pg.Client) => Promise<T>): Promise<T> {
  if (client) return body(client);
  const own = new pg.Client({ connectionString: url });
  own.on("error", () => {});
  await own.connect();
  try {
    return await body(own);
  } finally {
    await own.end().catch(() => {});
  }
}

async function startPglite(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL("./pglite-server.mjs", import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    // Generous for a loaded two-core machine; a child that did not start is killed so it cannot keep the
    // test file alive.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("embedded PGlite did not start in 180 s"));
    }, 180_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded PGlite exited with ${code} before listening`));
    });
  });
  // The parent may exit without calling stop(): the child then sees its stdin close and exits too.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
