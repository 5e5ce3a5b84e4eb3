// Open a connector for a declared source, resolving its connection secret through the chain.

import type { Source } from "../declare/sources.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import type { SourceConnector } from "../sources/source.ts";

export async function openConnector(source: Source, secrets: SecretChain): Promise<SourceConnector> {
  const url = await secrets.resolve(source.connection, `source "${source.name}": connection`);
  switch (source.kind) {
    case "postgres": {
      // Loaded when a run reads from PostgreSQL, so models-only runs and the Functions host start lighter.
      const { createPostgresConnector } = await import("../sources/postgres/index.ts");
      return createPostgresConnector(url, { name: source.name });
    }
  }
}
