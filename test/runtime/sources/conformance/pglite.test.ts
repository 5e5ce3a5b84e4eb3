// The conformance scenarios against embedded PGlite, served over the wire protocol from a child process.
import { conformance } from "./scenarios.ts";
import { postgresSource } from "./postgres.ts";

conformance("PGlite", () => postgresSource("pglite"));
