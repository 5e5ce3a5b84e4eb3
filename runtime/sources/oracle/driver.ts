// The part of `oracledb` (thin mode: pure JavaScript, no Instant Client) the Oracle source uses, typed
// here: the package ships no types, and @types/oracledb lags the driver. Loaded on first use only.

/** A driver type (`oracledb.DB_TYPE_NUMBER`, …): compared by identity, named for messages. */
export interface OracleDbType {
  readonly name: string;
}

/** Column metadata as the driver describes a query's result (what a fetch type handler is given). */
export interface OracleFetchMetadata {
  readonly name: string;
  readonly dbType: OracleDbType;
}

/** A LOB locator: its length (characters for CLOB/NCLOB, bytes for BLOB) and its content on request. */
export interface OracleLob {
  readonly length: number;
  getData(): Promise<string | Buffer | null>;
  destroy?(): void;
}

export interface OracleResultSet {
  getRows(count: number): Promise<unknown[][]>;
  close(): Promise<void>;
}

export interface OracleExecuteOptions {
  readonly resultSet?: boolean;
  readonly fetchArraySize?: number;
  readonly prefetchRows?: number;
  readonly fetchTypeHandler?: (metadata: OracleFetchMetadata) => { type: OracleDbType } | undefined;
}

export interface OracleConnection {
  execute(sql: string, binds?: readonly unknown[] | Record<string, unknown>, options?: OracleExecuteOptions): Promise<{ rows?: unknown[][]; resultSet?: OracleResultSet }>;
  breakExecution(): Promise<void>;
  close(): Promise<void>;
}

/** What `getConnection` takes (node-oracledb's connection attributes, thin mode). */
export interface OracleConnectAttributes {
  readonly user: string;
  readonly password: string;
  /** Easy Connect (`host:port/service`), or a full `(DESCRIPTION=…)` descriptor. */
  readonly connectString: string;
  /** Seconds to establish the connection. */
  readonly connectTimeout?: number;
  /** With TCPS: the certificate's distinguished name must match the host (or `sslServerCertDN`). */
  readonly sslServerDNMatch?: boolean;
  readonly sslServerCertDN?: string;
  /** Folder of a wallet (ewallet.pem) for mutual TLS (Autonomous Database). */
  readonly walletLocation?: string;
  readonly walletPassword?: string;
}

export interface OracleDriver {
  getConnection(attributes: OracleConnectAttributes): Promise<OracleConnection>;
  readonly DB_TYPE_NUMBER: OracleDbType;
  readonly DB_TYPE_BINARY_FLOAT: OracleDbType;
  readonly DB_TYPE_BINARY_DOUBLE: OracleDbType;
  readonly DB_TYPE_VARCHAR: OracleDbType;
  readonly DB_TYPE_DATE: OracleDbType;
  /** The driver's INTERVAL values (what a fetch returns for INTERVAL YEAR TO MONTH / DAY TO SECOND). */
  readonly IntervalYM: new (value: { years: number; months: number }) => { years: number; months: number };
  readonly IntervalDS: new (value: { days: number; hours: number; minutes: number; seconds: number; fseconds: number }) =>
    { days: number; hours: number; minutes: number; seconds: number; fseconds: number };
}

/** The driver, loaded when an Oracle source is first read (runs and the Functions host that read none stay lighter). */
export async function loadOracleDriver(): Promise<OracleDriver> {
  return (await import("oracledb")).default;
}
