// A SQL Server / Azure SQL connection string → the `mssql` (tedious) configuration. TLS is on and the
// server's certificate verified unless the string says otherwise; a login with a password is a SQL login,
// one without is Microsoft Entra ID through @azure/identity: the Function App's managed identity in Azure
// (a user-assigned one with `clientId=`), the developer's `az login` on a laptop.
//
//   sqlserver://user:password@host:1433/database                      SQL login
//   sqlserver://host.database.windows.net/database                     Entra ID (DefaultAzureCredential)
//   sqlserver://host.database.windows.net/database?authentication=managed-identity&clientId=<guid>
//   sqlserver://localhost/db?encrypt=false  or  ?trustServerCertificate=true   (a dev server)

import type { TokenCredential } from "@azure/identity";
import type { config as MssqlConfig } from "mssql";
import { ConfigError } from "../../errors.ts";

export type MssqlAuthentication = "sql" | "default" | "managed-identity";

export interface MssqlTarget {
  readonly server: string;
  readonly port: number;
  readonly database: string;
  readonly user?: string;
  readonly password?: string;
  readonly authentication: MssqlAuthentication;
  readonly clientId?: string;
  readonly encrypt: boolean;
  readonly trustServerCertificate: boolean;
  /** `sqlserver://user@host:port/db`, never the password: for messages. */
  readonly description: string;
}

const FLAG = /^(true|false)$/i;

export function parseMssqlTarget(connection: string): MssqlTarget {
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new ConfigError([`connection: not a sqlserver:// URL (expected sqlserver://[user:password@]host[:port]/database)`]);
  }
  if (url.protocol !== "sqlserver:" && url.protocol !== "mssql:") {
    throw new ConfigError([`connection: "${url.protocol}//…" is not a SQL Server address (expected sqlserver://)`]);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!url.hostname || !database) throw new ConfigError([`connection: a SQL Server address needs a host and a database (sqlserver://host/database)`]);
  const params = url.searchParams;
  const known = new Set(["encrypt", "trustServerCertificate", "authentication", "clientId"]);
  for (const key of params.keys()) if (!known.has(key)) throw new ConfigError([`connection: unknown option "${key}" (known: ${[...known].join(", ")})`]);
  const flag = (key: string, fallback: boolean) => {
    const value = params.get(key);
    if (value === null) return fallback;
    if (!FLAG.test(value)) throw new ConfigError([`connection: ${key} must be true or false, not "${value}"`]);
    return value.toLowerCase() === "true";
  };
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const requested = params.get("authentication");
  if (requested !== null && !["sql", "default", "managed-identity"].includes(requested)) {
    throw new ConfigError([`connection: authentication must be sql, default or managed-identity, not "${requested}"`]);
  }
  const authentication = (requested ?? (password !== undefined ? "sql" : "default")) as MssqlAuthentication;
  if (authentication === "sql" && (user === undefined || password === undefined)) {
    throw new ConfigError([`connection: a SQL login needs a user and a password (sqlserver://user:password@host/database)`]);
  }
  const port = url.port ? Number(url.port) : 1433;
  return {
    server: url.hostname,
    port,
    database,
    user,
    password,
    authentication,
    clientId: params.get("clientId") ?? undefined,
    encrypt: flag("encrypt", true),
    trustServerCertificate: flag("trustServerCertificate", false),
    description: `sqlserver://${user ? `${user}@` : ""}${url.hostname}:${port}/${database}`,
  };
}

/** The `mssql` pool configuration for a target; Entra ID tokens come from `credential` (made by `entraCredential`). */
export function mssqlConfig(target: MssqlTarget, credential?: TokenCredential): MssqlConfig {
  const base: MssqlConfig = {
    server: target.server,
    port: target.port,
    database: target.database,
    options: {
      encrypt: target.encrypt,
      trustServerCertificate: target.trustServerCertificate,
      // Values arrive as the server's text (see types.ts); nothing depends on JS Date handling.
      useUTC: true,
      appName: "mallard",
    },
    pool: { max: 4, min: 0, idleTimeoutMillis: 30_000 },
    connectionTimeout: 30_000,
    // A chunk of a big table may take long to arrive; the load's own timeout governs.
    requestTimeout: 0,
  };
  if (target.authentication === "sql") return { ...base, user: target.user, password: target.password };
  if (!credential) throw new Error("an Entra ID connection needs a token credential");
  return { ...base, authentication: { type: "token-credential", options: { credential } } } as MssqlConfig;
}

/** The Entra ID credential a target asks for: the managed identity, or the default chain (managed identity, az login, …). */
export async function entraCredential(target: MssqlTarget): Promise<TokenCredential> {
  const identity = await import("@azure/identity");
  if (target.authentication === "managed-identity") {
    return target.clientId ? new identity.ManagedIdentityCredential({ clientId: target.clientId }) : new identity.ManagedIdentityCredential();
  }
  return new identity.DefaultAzureCredential(target.clientId ? { managedIdentityClientId: target.clientId } : {});
}
