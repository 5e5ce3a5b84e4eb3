// Open a connector for a declared source (the registry in runtime/sources knows every kind).

export { openSource as openConnector } from "../sources/registry.ts";
