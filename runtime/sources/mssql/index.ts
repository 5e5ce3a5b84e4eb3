export { createMssqlConnector, MssqlConnector, type MssqlConnectorOptions } from "./connector.ts";
