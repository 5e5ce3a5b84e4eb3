// The MySQL / MariaDB source: what the rest of Mallard imports.

export { createMysqlConnector, MysqlConnector, type MysqlConnectorOptions } from "./connector.ts";
export { duckTypeOf } from "./types.ts";
