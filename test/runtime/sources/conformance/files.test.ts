// The conformance scenarios against a file drop (a local folder of CSV files; the type map per format).
import { conformance } from "./scenarios.ts";
import { filesSource } from "./files.ts";

conformance("files", filesSource);
