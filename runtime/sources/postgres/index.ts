// The PostgreSQL source: what the rest of Mallard imports.

export { BRONZE_CODEC } from "../csv/chunks.ts";
export { createPostgresConnector, PostgresConnector, type PostgresConnectorOptions } from "./connector.ts";
export { describeTarget, SESSION_SETTINGS } from "./connect.ts";
export { duckTypeOf, scalarDuckType } from "./types.ts";
