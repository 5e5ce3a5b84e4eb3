// One entry per source kind: how to open its connector. Adding a source kind adds a folder under
// runtime/sources/ and one line here; the compiler checks every declared kind has one. Drivers load
// when a run reads from that kind, so models-only runs and the Functions host start lighter.

import type { MysqlSource, Source } from "../declare/sources.ts";
import type { Lake } from "../lake/lake.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import type { SourceConnector } from "./source.ts";

/** `lake`: the run's lake (a file source reads the lake's landing container). */
type Opener<S extends Source> = (source: S, secrets: SecretChain, lake?: Lake) => Promise<SourceConnector>;

/** The connection string of a SQL source, resolved through the secret chain. */
const connection = (source: Extract<Source, { connection: unknown }>, secrets: SecretChain) =>
  secrets.resolve(source.connection, `source "${source.name}": connection`);

/** MySQL and MariaDB: one connector. */
async function openMysql(source: MysqlSource, secrets: SecretChain): Promise<SourceConnector> {
  const { createMysqlConnector } = await import("./mysql/index.ts");
  return createMysqlConnector(await connection(source, secrets), { name: source.name, flavor: source.kind });
}

const OPENERS: { [K in Source["kind"]]: Opener<Extract<Source, { kind: K }>> } = {
  postgres: async (source, secrets) => {
    const { createPostgresConnector } = await import("./postgres/index.ts");
    return createPostgresConnector(await connection(source, secrets), { name: source.name });
  },
  mysql: (source, secrets) => openMysql(source, secrets),
  mariadb: (source, secrets) => openMysql(source, secrets),
  sqlserver: async (source, secrets) => {
    const { createMssqlConnector } = await import("./mssql/index.ts");
    return createMssqlConnector(await connection(source, secrets), { name: source.name });
  },
  oracle: async (source, secrets) => {
    const { createOracleConnector } = await import("./oracle/index.ts");
    return createOracleConnector(await connection(source, secrets), { name: source.name });
  },
  rest: async (source, secrets) => {
    const { openRestSource } = await import("./rest/open.ts");
    return openRestSource(source, secrets);
  },
  files: async (source, _secrets, lake) => {
    const { FilesConnector } = await import("./files/index.ts");
    return new FilesConnector(source, lake);
  },
};

/** Open a connector for a declared source. */
export function openSource(source: Source, secrets: SecretChain, lake?: Lake): Promise<SourceConnector> {
  return (OPENERS[source.kind] as Opener<Source>)(source, secrets, lake);
}
