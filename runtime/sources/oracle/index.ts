export { createOracleConnector, OracleConnector, type OracleConnectorOptions } from "./connector.ts";
