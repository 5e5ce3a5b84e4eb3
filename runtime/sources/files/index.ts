export { FilesConnector } from "./connector.ts";
