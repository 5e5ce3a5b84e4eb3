// Connections to a PostgreSQL source: opened with the session settings that make every value's text
// canonical (the extraction depends on them), and failures turned into SourceErrors that name the server
// and database but never carry the connection string or its password.

import pg from "pg";
import { redact, SourceError } from "../../errors.ts";
import { driverErrors, driverText } from "../driver-errors.ts";

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

/** A connected client with Mallard's session settings. */
export async function connect(url: string, applicationName = "mallard"): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
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
    throw new SourceError(`cannot connect to PostgreSQL ${describeTarget(url)}: ${reason(error)}`, { cause: scrub(error) });
  }
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
