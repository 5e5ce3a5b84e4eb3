// The conformance scenarios against an Oracle server, when MALLARD_TEST_ORACLE names one
// (oracle://user:password@host:1521/FREEPDB1, or user/password@host:1521/service); reported as skipped
// otherwise: no Oracle server runs on this machine (test/runtime/sources/oracle/ covers it without one).
import { conformance } from "./scenarios.ts";
import { oracleSource } from "./oracle.ts";

const connection = process.env.MALLARD_TEST_ORACLE;
conformance("Oracle", () => oracleSource(connection!), { skip: !connection && "MALLARD_TEST_ORACLE is not set (no Oracle server here)" });
