// The conformance scenarios against SQL Server or Azure SQL, when MALLARD_TEST_MSSQL names one
// (sqlserver://sa:…@host/db?trustServerCertificate=true); reported as skipped otherwise: no SQL Server runs
// on this machine (test/runtime/sources/mssql/ covers it without one).
import { conformance } from "./scenarios.ts";
import { mssqlSource } from "./mssql.ts";

const connection = process.env.MALLARD_TEST_MSSQL;
conformance("SQL Server", () => mssqlSource(connection!), { skip: !connection && "MALLARD_TEST_MSSQL is not set (no SQL Server here)" });
