// The shop database the fault suite reads: a database of its own on the real PostgreSQL (dropped at the
// end), seeded with a quarter of the sample shop and changed once (`mutateShop`) between the base runs and the runs
// the suite breaks.

import { randomBytes } from "node:crypto";
import pg from "pg";
import { mutateShop, seedShop, type SqlExecutor } from "../../../runtime/demo/shop-data.ts";
import { testServerUrl } from "../../helpers/pg.ts";

export interface ShopDatabase {
  /** Connection string of the shop database (what the pipeline's secret holds). */
  readonly url: string;
  /** Connection string with a password inserted: PostgreSQL's trust auth ignores it (the canary). */
  withPassword(password: string): string;
  exec(sql: string): Promise<void>;
  mutate(): Promise<void>;
  close(): Promise<void>;
}

export async function shopDatabase(): Promise<ShopDatabase> {
  const adminUrl = new URL(testServerUrl());
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const name = `mallard_faults_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  const executor: SqlExecutor = { exec: (sql) => db.query(sql), query: async <T>(sql: string) => ({ rows: (await db.query(sql)).rows as T[] }) };
  await seedShop(executor);
  // A quarter of the people and orders: every step boundary is still crossed, in a fraction of the time.
  await db.query("DELETE FROM customers WHERE id % 4 <> 0; DELETE FROM order_lines WHERE order_id > 1200; DELETE FROM orders WHERE id > 1200");
  return {
    url: url.toString(),
    withPassword(password) {
      const u = new URL(url);
      u.password = password;
      return u.toString();
    },
    async exec(sql) {
      await db.query(sql);
    },
    async mutate() {
      await mutateShop(executor);
    },
    async close() {
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
