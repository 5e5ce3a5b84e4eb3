// Source declarations: where bronze stages read from. Plain data; connectors live in runtime/sources,
// one folder per source kind, registered in runtime/sources/registry.ts.
//
// A source serves resources: a database serves tables (`bronze.table`), a REST API endpoints, a folder
// files. Each kind of source says which kind of resource it serves (`ResourceOf`), so a declaration
// that asks a database for an endpoint does not compile.

import { describeEndpoint, type EndpointResource, restAuthValues, type RestSource, type RestSourceArgs, restSource } from "./rest.ts";
import { isSecretRef, type SecretRef } from "./secret.ts";
import type { FilesResource, FilesSource, FilesSourceArgs } from "./files.ts";

/** What every SQL database source takes. */
export interface SqlSourceArgs {
  /**
   * Connection string, preferably a secret reference so the password never sits in code.
   * @example secret("shop-db-url")
   */
  connection: SecretRef | string;
  /** Rows per committed chunk during extraction; a killed run resumes after the last chunk. @default 1_000_000 */
  chunkRows?: number;
}

export interface PostgresSourceArgs extends SqlSourceArgs {}

/**
 * A MySQL or MariaDB database. `connection`: `mysql://user:password@host:3306/database` (`mariadb://`
 * too). TLS is on (and the server's certificate verified) unless the host is loopback or the URL says
 * `?ssl=false`; `?ssl=true` forces it on.
 */
export interface MysqlSourceArgs extends SqlSourceArgs {}

/**
 * A SQL Server or Azure SQL database. `connection`: `sqlserver://user:password@host:1433/database` for a
 * SQL login, `sqlserver://<server>.database.windows.net/<database>` for Microsoft Entra ID (the Function
 * App's managed identity in Azure, `az login` locally; `?authentication=managed-identity&clientId=<id>` for
 * a user-assigned identity). TLS is on and the certificate verified unless `?encrypt=false` or
 * `?trustServerCertificate=true`.
 */
export interface SqlServerSourceArgs extends SqlSourceArgs {}

/**
 * An Oracle database (12.1 or later), read through `oracledb` in thin mode (no Instant Client).
 * `connection`: `oracle://user:password@host:1521/service_name`, `oracle://user:password@host:1521?sid=ORCL`
 * (by SID), `?ssl=true` for TLS (TCPS, the server's certificate DN checked), or Oracle's own
 * `user/password@host:1521/service_name` and `user/password@(DESCRIPTION=…)`.
 */
export interface OracleSourceArgs extends SqlSourceArgs {}

interface SqlSourceFields {
  readonly name: string;
  readonly connection: SecretRef | string;
  readonly chunkRows?: number;
}

export interface PostgresSource extends SqlSourceFields {
  readonly kind: "postgres";
}

/** A MySQL or MariaDB database: one connector (runtime/sources/mysql/), two names for the same thing. */
export interface MysqlSource extends SqlSourceFields {
  readonly kind: "mysql" | "mariadb";
}

/** A SQL Server or Azure SQL database (runtime/sources/mssql/). */
export interface SqlServerSource extends SqlSourceFields {
  readonly kind: "sqlserver";
}

/** An Oracle database (runtime/sources/oracle/). */
export interface OracleSource extends SqlSourceFields {
  readonly kind: "oracle";
}

/** Every source kind. Adding one: its declaration here, its connector under runtime/sources/<kind>/. */
export type Source = PostgresSource | MysqlSource | SqlServerSource | OracleSource | RestSource | FilesSource;
export type SourceKind = Source["kind"];

/** Sources whose resources are tables (read with SQL). */
export type SqlSource = PostgresSource | MysqlSource | SqlServerSource | OracleSource;

/** A table (or view) of a SQL source, as the source names it. @example { kind: "table", table: "public.orders" } */
export interface TableResource {
  readonly kind: "table";
  /** Schema-qualified where the source has schemas; parts quoted with "…" when they hold dots or quotes. */
  readonly table: string;
}

/** Everything a bronze stage can read. File patterns join this union. */
export type Resource = TableResource | EndpointResource | FilesResource;

/** The resource kind a source serves. */
export type ResourceOf<S extends Source> = S extends SqlSource ? TableResource : S extends RestSource ? EndpointResource : S extends FilesSource ? FilesResource : never;

/** A resource as messages name it: `public.orders`. */
export function describeResource(resource: Resource): string {
  switch (resource.kind) {
    case "table":
      return resource.table;
    case "endpoint":
      return describeEndpoint(resource);
    case "files":
      return resource.pattern;
  }
}

/**
 * The secrets a source reads (Key Vault holds them in Azure), and the fields that hold a plain value
 * where a secret belongs (it would ship in the function bundle).
 */
export function sourceSecrets(source: Source): { secrets: SecretRef[]; plain: string[] } {
  if (source.kind === "files") return { secrets: [], plain: [] };
  const values = source.kind === "rest" ? restAuthValues(source) : [{ field: "connection", value: source.connection, secret: true }];
  return {
    secrets: values.flatMap((v) => (isSecretRef(v.value) ? [v.value] : [])),
    plain: values.filter((v) => v.secret && !isSecretRef(v.value)).map((v) => v.field),
  };
}

const sql = <K extends SqlSource["kind"]>(kind: K, name: string, args: SqlSourceArgs): SqlSourceFields & { readonly kind: K } =>
  ({ kind, name, connection: args.connection, chunkRows: args.chunkRows });

export const source = {
  /** A PostgreSQL database (also anything that speaks its wire protocol and COPY). */
  postgres(name: string, args: PostgresSourceArgs): PostgresSource {
    return sql("postgres", name, args);
  },
  /** A MySQL database (8.0 or later; 5.7 works without `partitions: { count }`), read through `mysql2`. */
  mysql(name: string, args: MysqlSourceArgs): MysqlSource {
    return sql("mysql", name, args);
  },
  /** A MariaDB database (10.3 or later; UUID needs 10.7, INET4 10.10), read through `mysql2`. */
  mariadb(name: string, args: MysqlSourceArgs): MysqlSource {
    return sql("mariadb", name, args);
  },
  /** A SQL Server (2016 or later) or Azure SQL database, read through `mssql` (tedious). */
  sqlserver(name: string, args: SqlServerSourceArgs): SqlServerSource {
    return sql("sqlserver", name, args);
  },
  /** An Oracle database (12.1 or later), read through `oracledb` in thin mode: nothing to install. */
  oracle(name: string, args: OracleSourceArgs): OracleSource {
    return sql("oracle", name, args);
  },
  /** A REST API serving JSON; its endpoints are read with `bronze.endpoint`. See runtime/declare/rest.ts. */
  rest(name: string, args: RestSourceArgs): RestSource {
    return restSource(name, args);
  },
  /** A folder files are dropped in: a local folder, or a folder of the lake's `landing` container. */
  files(name: string, args: FilesSourceArgs): FilesSource {
    return { kind: "files", name, folder: args.folder, landing: args.landing, chunkRows: args.chunkRows };
  },
};
