// Connections to a PostgreSQL source: opened with the session settings that make every value's text
// canonical (the extraction depends on them), and failures turned into SourceErrors that name the server
// and database but never carry the connection string or its password.

import type { Socket } from "node:net";
import pg from "pg";
import { redact, SourceError } from "../../errors.ts";
import { driverErrors, driverText } from "../driver-errors.ts";
import { pgSocket } from "./socket.ts";

/**
 * Session settings the type mapping relies on: timestamps in ISO form and UTC, bytea as hex, floats with
 * enough digits to round-trip (PostgreSQL ≥ 12 prints the shortest exact form for any value > 0),
 * UTF-8 whatever the database encoding.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = {
  TimeZone: "UTC",
  DateStyle: "ISO, MDY",
  IntervalStyle: "postgres",
  bytea_output: "hex",
  extra_float_digits: "3",
  client_encoding: "UTF8",
};

/** `postgres://user@host:port/db` for messages: never the password or query parameters. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : "";
    const host = u.host || u.searchParams.get("host") || "localhost";
    return `postgres://${user}${host}${u.pathname}`;
  } catch {
    // Keyword/value form: `host=… dbname=… password=…`.
    const pairs = new Map(url.split(/\s+/).map((kv) => kv.split("=", 2) as [string, string]));
    return `postgres://${pairs.get("user") ? `${pairs.get("user")}@` : ""}${pairs.get("host") ?? "localhost"}${pairs.get("port") ? `:${pairs.get("port")}` : ""}/${pairs.get("dbname") ?? ""}`;
  }
}

/**
 * How long opening a connection may take (TCP, TLS, authentication) before the load fails, as for MySQL
 * and SQL Server: a server that accepts the connection and never answers (a half-open firewall, a hung
 * pooler) would otherwise hold the task until the function's own timeout, with no word on why.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  /** `application_name` the source's pg_stat_activity shows. @default "mallard" */
  readonly applicationName?: string;
  /** The declared source's name, for messages. */
  readonly source?: string;
  /** @default the URL's `connect_timeout` (seconds, as libpq reads it), else DEFAULT_CONNECT_TIMEOUT_MS */
  readonly connectTimeoutMs?: number;
}

/** A connected client with Mallard's session settings. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<pg.Client> {
  const timeoutMs = options.connectTimeoutMs ?? urlConnectTimeoutMs(url) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName ?? "mallard",
    connectionTimeoutMillis: timeoutMs,
    // pg calls it with the connection's settings (its types declare no argument).
    stream: pgSocket as unknown as () => Socket,
  });
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
    for (const [name, value] of Object.entries(SESSION_SETTINGS)) {
      await client.query(`SELECT set_config($1, $2, false)`, [name, value]);
    }
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    const named = options.source ? ` (source "${options.source}")` : "";
    const why = isConnectTimeout(error) ? `no answer within ${timeoutMs / 1000} s (connect timeout)` : reason(error);
    throw new SourceError(`cannot connect to PostgreSQL ${describeTarget(url)}${named}: ${why}`, { cause: scrub(error) });
  }
}

/** libpq's `connect_timeout` (seconds) in a URL, which node-postgres itself ignores. */
function urlConnectTimeoutMs(url: string): number | undefined {
  try {
    const seconds = Number(new URL(url).searchParams.get("connect_timeout") ?? Number.NaN);
    // libpq: zero (or less) means wait forever; Mallard keeps a bound, so it keeps its default then.
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** node-postgres's error when `connectionTimeoutMillis` passed before the server was ready. */
function isConnectTimeout(error: unknown): boolean {
  return error instanceof Error && /connection timeout|timeout expired/i.test(error.message);
}

/** The message of a driver error, redacted, with PostgreSQL's detail and hint when it has them. */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return reason(error.errors[0]);
  if (!(error instanceof Error)) return redact(String(error));
  const pgError = error as Error & { detail?: string; hint?: string; code?: string };
  const parts = [error.message || pgError.code || error.name];
  if (pgError.detail) parts.push(`(${pgError.detail})`);
  if (pgError.hint) parts.push(`hint: ${pgError.hint}`);
  return driverText(parts.join(" "));
}

export const { scrub, sourceErrors } = driverErrors(reason);

/** Cut a client's connection now (a COPY the reader abandoned): the server ends the backend's query. */
export function destroySocket(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Close a client, and if it does not close promptly (a COPY still streaming), cut its socket. */
export async function closeClient(client: pg.Client, options: { force?: boolean } = {}): Promise<void> {
  if (options.force) destroySocket(client);
  const ended = client.end().catch(() => {});
  const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, 2_000, "timeout").unref());
  if ((await Promise.race([ended, timeout])) === "timeout") destroySocket(client);
}
