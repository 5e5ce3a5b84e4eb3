// The sample "shop" pipeline: three bronze tables from PostgreSQL, cleaned and checked in silver,
// aggregated in gold. `npm start` runs it against an embedded PostgreSQL filled with sample data.

import { bronze, check, gold, pipeline, secret, silver, source } from "mallard";

const shop = source.postgres("shop", { connection: secret("shop-db-url") });

const customers = bronze.table(shop, {
  table: "public.customers",
  primaryKey: "id",
  incremental: { cursor: ["updated_at", "id"] },
});

const orders = bronze.table(shop, {
  table: "public.orders",
  primaryKey: "id",
  // Late-arriving rows (updated_at older than the checkpoint) are caught within the look-back window.
  incremental: { cursor: ["updated_at", "id"], lookBack: "1 hour" },
});

const orderLines = bronze.table(shop, {
  table: "public.order_lines",
  primaryKey: ["order_id", "line_no"],
  incremental: { cursor: ["updated_at", "order_id", "line_no"], lookBack: "1 hour" },
});

// The shop's customers sign up more than once (typos, another email, no city): one entity per person.
const people = silver.dedup("people", {
  from: customers,
  id: "id",
  blocking: [["date_of_birth"], ["last_name", "first_name"], ["lower(email)"]],
  compare: {
    first_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.88 }] },
    last_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.88 }] },
    // Born more than a year apart: two people (a parent and a junior), whatever else agrees.
    date_of_birth: { levels: [{ kind: "exact" }, { kind: "dateDifference", max: 1, unit: "year" }], conflict: true },
    // Addresses are made from the name: agreeing on both names, a shared address adds less.
    email: {
      levels: [{ kind: "sql", sql: "lower(l.email) = lower(r.email)", label: "same address" }],
      correlatedWith: ["first_name", "last_name"],
    },
    city: { levels: [{ kind: "exact" }] },
  },
  survivor: { kind: "mostComplete" },
});

const ordersClean = silver.model("orders_clean", {
  from: { orders, order_lines: orderLines },
  sql: "transformations/silver/orders_clean.sql",
  primaryKey: "order_id",
  checks: [
    check.notNull("order_id"),
    check.unique("order_id"),
    check.acceptedValues("status", ["placed", "paid", "shipped", "delivered", "cancelled"], { severity: "warn" }),
    check.expect("quantities_positive", "min_quantity > 0", { severity: "drop" }),
    check.freshness("updated_at", "400 days", { severity: "warn" }),
  ],
});

const dailyRevenue = gold.model("daily_revenue", {
  from: { orders_clean: ordersClean },
  sql: "transformations/gold/daily_revenue.sql",
  checks: [check.rowCount({ min: 1 }), check.unique(["order_date", "currency"])],
});

const customerValue = gold.model("customer_value", {
  from: { orders_clean: ordersClean, people },
  sql: "transformations/gold/customer_value.sql",
  checks: [check.unique("entity_id")],
});

export default pipeline("shop", {
  schedule: "0 */15 * * * *",
  stages: [customers, orders, orderLines, people, ordersClean, dailyRevenue, customerValue],
  engine: { memoryLimit: "1GB" },
});
