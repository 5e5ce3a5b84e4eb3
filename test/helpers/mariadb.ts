// The MariaDB the tests run against (127.0.0.1:3306, root, no password; MALLARD_TEST_MYSQL_URL overrides):
// a scratch database per suite, dropped at the end, and a promise-API connection on it.

import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";

export interface TestMariadb {
  /** Connection string of the scratch database, as a source declares it. */
  readonly url: string;
  readonly database: string;
  /** A connection on the scratch database (session time zone +00:00). */
  readonly sql: mysql.Connection;
  close(): Promise<void>;
}

export const MARIADB_URL = process.env.MALLARD_TEST_MYSQL_URL || "mysql://root@127.0.0.1:3306/test";

export async function testMariadb(prefix: string): Promise<TestMariadb> {
  const base = new URL(MARIADB_URL);
  const database = `mallard_${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: MARIADB_URL, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await admin.end();
  base.pathname = `/${database}`;
  const sql = await mysql.createConnection({ uri: base.toString(), multipleStatements: true, charset: "UTF8MB4_GENERAL_CI" });
  await sql.query("SET time_zone = '+00:00'");
  return {
    url: base.toString(),
    database,
    sql,
    async close() {
      await sql.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
      await sql.end();
    },
  };
}
