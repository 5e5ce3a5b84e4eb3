// The REST source: see connector.ts, and docs/sources.md for the contract it implements.

export { createRestConnector, DELETED_COLUMN, RestConnector, type RestConnectorOptions } from "./connector.ts";
export type { ResolvedAuth } from "./auth.ts";
