// An Oracle connection string → node-oracledb's thin-mode connection attributes. Two spellings, both
// from a secret:
//
//   oracle://user:password@host[:1521]/service_name            by service name (Easy Connect)
//   oracle://user:password@host[:1521]?sid=ORCL                by SID (a connect descriptor is made)
//   oracle://user:password@host:2484/service?ssl=true          TLS (TCPS), the server's DN checked
//   user/password@host:1521/service_name                        Oracle's own form: anything after the @ is
//   user/"p@ss"@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCPS)…)…)        an Easy Connect string or a descriptor
//
// The password is never part of `description`, which is all messages show.

import { ConfigError } from "../../errors.ts";
import type { OracleConnectAttributes } from "./driver.ts";

export interface OracleTarget {
  readonly user: string;
  readonly password: string;
  /** What the driver connects to: Easy Connect or a `(DESCRIPTION=…)` descriptor. */
  readonly connectString: string;
  readonly tls: boolean;
  readonly sslServerCertDN?: string;
  readonly sslServerDNMatch: boolean;
  readonly walletLocation?: string;
  readonly walletPassword?: string;
  /** Seconds to wait for the connection. */
  readonly connectTimeout: number;
  /** `oracle://user@host:port/service`, never the password: for messages. */
  readonly description: string;
}

const URL_OPTIONS = ["sid", "ssl", "sslServerCertDN", "sslServerDNMatch", "wallet", "walletPassword", "connectTimeout"] as const;
const DEFAULT_PORT = 1521;
const DEFAULT_CONNECT_TIMEOUT = 30;

/** Parse either spelling; every mistake is one line that never quotes the password. */
export function parseOracleTarget(connection: string): OracleTarget {
  return /^oracle:\/\//i.test(connection) ? fromUrl(connection) : fromOracleForm(connection);
}

function fromUrl(connection: string): OracleTarget {
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new ConfigError([`connection: not an oracle:// URL (expected oracle://user:password@host[:port]/service_name)`]);
  }
  const params = url.searchParams;
  for (const key of params.keys()) {
    if (!(URL_OPTIONS as readonly string[]).includes(key)) throw new ConfigError([`connection: unknown option "${key}" (known: ${URL_OPTIONS.join(", ")})`]);
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (!user || !password) throw new ConfigError([`connection: an Oracle connection needs a user and a password (oracle://user:password@host/service_name)`]);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) throw new ConfigError([`connection: an Oracle address needs a host (oracle://user:password@host/service_name)`]);
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  const service = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const sid = params.get("sid") ?? undefined;
  if (service && sid) throw new ConfigError([`connection: give a service name (the path) or a SID (?sid=), not both`]);
  if (!service && !sid) throw new ConfigError([`connection: an Oracle address needs a service name (oracle://…@host/service_name) or a SID (?sid=ORCL)`]);
  for (const [name, value] of [["service name", service], ["SID", sid]] as const) {
    if (value && !/^[A-Za-z0-9_.$#-]+$/.test(value)) throw new ConfigError([`connection: the ${name} "${value}" holds characters a connect string cannot carry`]);
  }
  const tls = flag(params.get("ssl"), "ssl", false);
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const connectString = sid
    ? `(DESCRIPTION=(ADDRESS=(PROTOCOL=${tls ? "TCPS" : "TCP"})(HOST=${host})(PORT=${port}))(CONNECT_DATA=(SID=${sid})))`
    : `${tls ? "tcps://" : ""}${hostPart}:${port}/${service}`;
  return {
    user,
    password,
    connectString,
    tls,
    sslServerCertDN: params.get("sslServerCertDN") ?? undefined,
    sslServerDNMatch: flag(params.get("sslServerDNMatch"), "sslServerDNMatch", true),
    walletLocation: params.get("wallet") ?? undefined,
    walletPassword: params.get("walletPassword") ?? undefined,
    connectTimeout: seconds(params.get("connectTimeout")),
    description: `oracle://${user}@${hostPart}:${port}/${sid ? `(SID=${sid})` : service}${tls ? " (TLS)" : ""}`,
  };
}

/** `user/password@connect_string`, the password optionally in double quotes (it may then hold `@` and `/`). */
function fromOracleForm(connection: string): OracleTarget {
  const slash = connection.indexOf("/");
  if (slash <= 0 || connection.slice(0, slash).includes("@")) throw new ConfigError([`connection: expected oracle://user:password@host/service_name or user/password@connect_string`]);
  const user = connection.slice(0, slash);
  let rest = connection.slice(slash + 1);
  let password: string;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close === -1 || rest[close + 1] !== "@") throw new ConfigError([`connection: a quoted password must be followed by @connect_string`]);
    password = rest.slice(1, close);
    rest = rest.slice(close + 2);
  } else {
    const at = rest.indexOf("@");
    if (at === -1) throw new ConfigError([`connection: expected user/password@connect_string (no @ found after the user)`]);
    password = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const connectString = rest.trim();
  if (!user || !password || !connectString) throw new ConfigError([`connection: an Oracle connection needs a user, a password and a connect string (user/password@host:1521/service)`]);
  const tls = /^tcps:\/\//i.test(connectString) || /\(PROTOCOL\s*=\s*TCPS\)/i.test(connectString);
  return {
    user, password, connectString, tls, sslServerDNMatch: true, connectTimeout: DEFAULT_CONNECT_TIMEOUT,
    description: `oracle://${user}@${describeConnectString(connectString)}${tls ? " (TLS)" : ""}`,
  };
}

/** A connect string for messages: Easy Connect as it is (it holds no secret), a descriptor as host:port/service. */
export function describeConnectString(connectString: string): string {
  if (!connectString.startsWith("(")) return connectString.replace(/^tcps?:\/\//i, "").replace(/\?.*$/, "");
  const part = (key: string) => new RegExp(`\\(\\s*${key}\\s*=\\s*([^)\\s]+)\\s*\\)`, "i").exec(connectString)?.[1];
  const host = part("HOST") ?? "?";
  const port = part("PORT") ?? String(DEFAULT_PORT);
  const service = part("SERVICE_NAME");
  const sid = part("SID");
  return `${host}:${port}/${service ?? (sid ? `(SID=${sid})` : "?")}`;
}

/** The attributes `oracledb.getConnection` takes for a target. */
export function oracleConnectAttributes(target: OracleTarget): OracleConnectAttributes {
  return {
    user: target.user,
    password: target.password,
    connectString: target.connectString,
    connectTimeout: target.connectTimeout,
    ...(target.tls ? { sslServerDNMatch: target.sslServerDNMatch } : {}),
    ...(target.sslServerCertDN ? { sslServerCertDN: target.sslServerCertDN } : {}),
    ...(target.walletLocation ? { walletLocation: target.walletLocation } : {}),
    ...(target.walletPassword ? { walletPassword: target.walletPassword } : {}),
  };
}

function flag(value: string | null, key: string, fallback: boolean): boolean {
  if (value === null) return fallback;
  if (!/^(true|false)$/i.test(value)) throw new ConfigError([`connection: ${key} must be true or false, not "${value}"`]);
  return value.toLowerCase() === "true";
}

function seconds(value: string | null): number {
  if (value === null) return DEFAULT_CONNECT_TIMEOUT;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError([`connection: connectTimeout must be a positive number of seconds, not "${value}"`]);
  return n;
}
