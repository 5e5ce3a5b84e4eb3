// Connections to a MySQL or MariaDB source: the connection string parsed once (it never appears in a
// message), TLS on by default away from loopback, and the session settings the extraction relies on.
// Driver failures become SourceErrors naming the server and database, never the password.

import mysql from "mysql2";
import { redact, SourceError } from "../../errors.ts";
import { driverErrors, driverText } from "../driver-errors.ts";

/**
 * Session settings every value's text depends on: TIMESTAMP shown in UTC, utf8mb4 for every text
 * column whatever its own character set, and a server that waits for a reader paused by backpressure
 * (while a chunk is committed) instead of dropping it after net_write_timeout's default 60 s.
 */
const SESSION_SQL = [
  "SET time_zone = '+00:00'",
  "SET NAMES utf8mb4",
  "SET SESSION net_write_timeout = 3600",
  "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
];

export interface MysqlTarget {
  readonly options: mysql.ConnectionOptions;
  /** `mysql://user@host:port/db` for messages. */
  readonly description: string;
}

/** Parse `mysql://user:password@host:port/database?ssl=true|false` (or `mariadb://`). */
export function parseTarget(url: string, scheme: string): MysqlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SourceError(`the connection string of a ${scheme} source must be a URL: ${scheme}://user:password@host:3306/database`);
  }
  if (!/^(mysql|mariadb):$/.test(u.protocol)) throw new SourceError(`the connection string of a ${scheme} source must start with mysql:// or mariadb:// (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[|\]$/g, "") || "localhost";
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const user = decodeURIComponent(u.username);
  const ssl = u.searchParams.get("ssl");
  if (ssl !== null && !/^(true|false)$/.test(ssl)) throw new SourceError(`the connection string's ssl parameter must be true or false (got "${ssl}")`);
  const loopback = host === "localhost" || host === "::1" || /^127\./.test(host);
  const tls = ssl === null ? !loopback : ssl === "true";
  return {
    options: {
      host,
      port: u.port ? Number(u.port) : 3306,
      user,
      password: decodeURIComponent(u.password),
      database: database || undefined,
      ssl: tls ? { rejectUnauthorized: true } : undefined,
      charset: "UTF8MB4_GENERAL_CI",
      // Exact values: every field arrives as its bytes (typeCast: false per query); numbers never become JS numbers.
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      connectTimeout: 30_000,
    },
    description: `${u.protocol}//${user ? `${user}@` : ""}${u.host}/${database}`,
  };
}

/** A connection with Mallard's session settings. */
export async function connect(target: MysqlTarget): Promise<mysql.Connection> {
  const connection = mysql.createConnection(target.options);
  // An idle connection whose server goes away emits 'error'; without a listener that would crash the process.
  connection.on("error", () => {});
  try {
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    for (const sql of SESSION_SQL) await run(connection, sql);
    return connection;
  } catch (error) {
    cutConnection(connection);
    throw new SourceError(`cannot connect to ${target.description}: ${reason(error)}`, { cause: scrub(error) });
  }
}

/** Run a statement; answers its rows as arrays of text (NULL as null). */
export function run(connection: mysql.Connection, sql: string, values: readonly unknown[] = []): Promise<(string | null)[][]> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, values: [...values], rowsAsArray: true, typeCast: false }, (error, rows) => {
      if (error) return reject(error);
      const list = Array.isArray(rows) ? (rows as unknown as (Buffer | null)[][]) : [];
      resolve(list.map((row) => row.map((v) => (v === null ? null : v.toString("utf8")))));
    });
  });
}

/**
 * Cut a connection now (a result set the reader abandoned). mysql2's `destroy()` only half-closes the
 * socket, and a server blocked writing rows to a paused reader would wait out net_write_timeout: the
 * socket itself is destroyed, so the server's next write fails and its query ends.
 */
export function cutConnection(connection: mysql.Connection): void {
  connection.destroy();
  (connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}

/** Close a connection; one that does not close promptly (a query still streaming) is cut. */
export async function closeConnection(connection: mysql.Connection, options: { force?: boolean } = {}): Promise<void> {
  if (options.force) return cutConnection(connection);
  const ended = new Promise<void>((resolve) => connection.end(() => resolve()));
  const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, 2_000, "timeout").unref());
  if ((await Promise.race([ended, timeout])) === "timeout") cutConnection(connection);
}

/** The message of a driver error, redacted, with MySQL's error code. */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return reason(error.errors[0]);
  if (!(error instanceof Error)) return redact(String(error));
  const e = error as Error & { code?: string; sqlMessage?: string };
  const text = e.sqlMessage ? `${e.sqlMessage} (${e.code})` : e.message || e.code || e.name;
  return driverText(text);
}

export const { scrub, sourceErrors } = driverErrors(reason);
