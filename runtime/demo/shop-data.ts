// The sample "shop" database: customers (with near-duplicate people), orders and order lines, a few
// rows that break quality rules, all deterministic. `mutateShop` then changes it the way a live
// system does between loads: updates sharing one timestamp, inserts, and late-arriving rows.

import { quoteLiteral, sqlValue } from "../engine/sql.ts";

export interface SqlExecutor {
  exec(sql: string): Promise<unknown>;
  query<T>(sql: string): Promise<{ rows: T[] }>;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same shop on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Liam", "Maja", "Noah", "Olga", "Pia", "Rafael", "Sofia", "Tom", "Zoë"];
const LAST = ["Andersson", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova", "Jensen", "Kowalski", "Larsen", "Müller", "Nowak", "O'Brien", "Petrov", "Rossi", "Schmidt", "Taylor", "Weber"];
const CITIES = ["Amsterdam", "Berlin", "København", "Dublin", "Lisboa", "Madrid", "Oslo", "Paris", "Praha", "Wien"];
const STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled"];
const SKUS = Array.from({ length: 40 }, (_, i) => `SKU-${String(i + 1).padStart(3, "0")}`);

export const SHOP_SIZE = { customers: 1000, duplicates: 150, orders: 5000 };
const BASE_TIME = Date.parse("2026-11-01T00:00:00Z");

const SCHEMA = `
CREATE TABLE customers (
  id integer PRIMARY KEY, first_name text, last_name text, email text, city text, date_of_birth date,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, ordered_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL, total numeric(12,2) NOT NULL, currency char(3) NOT NULL);
CREATE TABLE order_lines (
  order_id bigint NOT NULL, line_no integer NOT NULL, sku text NOT NULL, quantity integer NOT NULL,
  unit_price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (order_id, line_no));
CREATE INDEX orders_cursor ON orders (updated_at, id);
CREATE INDEX customers_cursor ON customers (updated_at, id);
CREATE INDEX order_lines_cursor ON order_lines (updated_at, order_id, line_no);
CREATE TABLE demo_state (generation integer NOT NULL);
INSERT INTO demo_state VALUES (0);`;

type Row = (string | number | null)[];

function ts(ms: number): string {
  return new Date(ms).toISOString();
}

/** A slightly wrong copy of a name: a dropped, doubled or swapped letter. */
function typo(name: string, rnd: () => number): string {
  const i = 1 + Math.floor(rnd() * (name.length - 2));
  const kind = Math.floor(rnd() * 3);
  if (kind === 0) return name.slice(0, i) + name.slice(i + 1);
  if (kind === 1) return name.slice(0, i) + name[i] + name.slice(i);
  return name.slice(0, i - 1) + name[i] + name[i - 1] + name.slice(i + 1);
}

function customers(rnd: () => number): Row[] {
  const rows: Row[] = [];
  for (let id = 1; id <= SHOP_SIZE.customers; id++) {
    const first = FIRST[Math.floor(rnd() * FIRST.length)];
    const last = LAST[Math.floor(rnd() * LAST.length)];
    const born = new Date(Date.UTC(1950 + Math.floor(rnd() * 50), Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
    const created = BASE_TIME - Math.floor(rnd() * 300) * 86_400_000;
    const email = `${first}.${last}${id}@example.com`.toLowerCase().normalize("NFD").replace(/[^\x20-\x7e]/g, "").replace(/'/g, "");
    rows.push([id, first, last, rnd() < 0.03 ? null : email, CITIES[Math.floor(rnd() * CITIES.length)], born.toISOString().slice(0, 10), ts(created), ts(created)]);
  }
  // Near-duplicate people: the same person signed up again with a typo, another email or no city.
  for (let k = 0; k < SHOP_SIZE.duplicates; k++) {
    const original = rows[Math.floor(rnd() * SHOP_SIZE.customers)];
    const id = SHOP_SIZE.customers + k + 1;
    const created = Math.min(BASE_TIME, Date.parse(String(original[6])) + Math.floor(rnd() * 60) * 86_400_000);
    const first = rnd() < 0.5 ? typo(String(original[1]), rnd) : original[1];
    const last = rnd() < 0.4 ? typo(String(original[2]), rnd) : original[2];
    rows.push([id, first, last, rnd() < 0.5 ? String(original[3] ?? "").toUpperCase() || null : `${id}@mail.example`, rnd() < 0.3 ? null : original[4], original[5], ts(created), ts(created)]);
  }
  return rows;
}

function orders(rnd: () => number, firstId: number, count: number, now: number): { orders: Row[]; lines: Row[] } {
  const orderRows: Row[] = [];
  const lineRows: Row[] = [];
  for (let id = firstId; id < firstId + count; id++) {
    const placed = now - Math.floor(rnd() * 30 * 86_400_000);
    // Many orders share one updated_at (a nightly batch job): the composite cursor must not skip any.
    const updated = rnd() < 0.3 ? placed - (placed % 3_600_000) + 3_600_000 : placed;
    const lines = 1 + Math.floor(rnd() * 4);
    let total = 0;
    for (let line = 1; line <= lines; line++) {
      const quantity = rnd() < 0.005 ? -1 : 1 + Math.floor(rnd() * 5);
      const price = Math.round(500 + rnd() * 9500) / 100;
      total += quantity * price;
      lineRows.push([id, line, SKUS[Math.floor(rnd() * SKUS.length)], quantity, price.toFixed(2), ts(updated)]);
    }
    const status = rnd() < 0.01 ? "lost_in_transit" : STATUSES[Math.floor(rnd() * STATUSES.length)];
    const customer = 1 + Math.floor(rnd() * (SHOP_SIZE.customers + SHOP_SIZE.duplicates));
    orderRows.push([id, customer, status, ts(placed), ts(updated), total.toFixed(2), "EUR"]);
  }
  return { orders: orderRows, lines: lineRows };
}

async function insert(db: SqlExecutor, table: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows.slice(i, i + 500).map((r) => `(${r.map((v) => (typeof v === "string" ? quoteLiteral(v) : sqlValue(v))).join(", ")})`);
    await db.exec(`INSERT INTO ${table} VALUES ${values.join(", ")}`);
  }
}

/** Create and fill the shop tables (once). Returns false when they already exist. */
export async function seedShop(db: SqlExecutor): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'demo_state'`);
  if (rows[0].n > 0) return false;
  const rnd = random(42);
  await db.exec(SCHEMA);
  await insert(db, "customers", customers(rnd));
  const generated = orders(rnd, 1, SHOP_SIZE.orders, BASE_TIME);
  await insert(db, "orders", generated.orders);
  await insert(db, "order_lines", generated.lines);
  return true;
}

export interface Mutation {
  readonly generation: number;
  readonly updated: number;
  readonly inserted: number;
  readonly late: number;
}

/**
 * Change the shop as a live system would between two loads: update orders (all sharing one new
 * timestamp), insert new orders, and insert "late" orders whose updated_at is older than the newest
 * row already loaded (inside the pipeline's look-back window).
 */
export async function mutateShop(db: SqlExecutor): Promise<Mutation> {
  const { rows: [state] } = await db.query<{ generation: number; max_id: string; newest: string }>(
    `SELECT (SELECT generation FROM demo_state) AS generation, (SELECT max(id) FROM orders)::text AS max_id, (SELECT max(updated_at) FROM orders)::text AS newest`,
  );
  const generation = state.generation + 1;
  const rnd = random(1000 + generation);
  const now = Math.max(Date.now(), Date.parse(state.newest.replace(" ", "T").replace(/\+00$/, "Z")) + 60_000);
  const updatedAt = ts(now);
  const { rows: updated } = await db.query<{ id: string }>(
    `UPDATE orders SET status = 'delivered', updated_at = ${quoteLiteral(updatedAt)} WHERE status = 'shipped' AND id % 7 = ${generation % 7} RETURNING id`,
  );
  const fresh = orders(rnd, Number(state.max_id) + 1, 100, now);
  await insert(db, "orders", fresh.orders.map((r) => [...r.slice(0, 4), updatedAt, ...r.slice(5)]));
  await insert(db, "order_lines", fresh.lines.map((r) => [...r.slice(0, 5), updatedAt]));
  const lateAt = ts(Date.parse(state.newest.replace(" ", "T").replace(/\+00$/, "Z")) - 20 * 60_000);
  const late = orders(rnd, Number(state.max_id) + 101, 10, now);
  await insert(db, "orders", late.orders.map((r) => [...r.slice(0, 4), lateAt, ...r.slice(5)]));
  await insert(db, "order_lines", late.lines.map((r) => [...r.slice(0, 5), lateAt]));
  await db.exec(`UPDATE demo_state SET generation = ${generation}`);
  return { generation, updated: updated.length, inserted: fresh.orders.length, late: late.orders.length };
}
