// The conformance scenarios against the real PostgreSQL server (127.0.0.1:5432).
import { conformance } from "./scenarios.ts";
import { postgresSource } from "./postgres.ts";

conformance("PostgreSQL server", () => postgresSource("server"));
