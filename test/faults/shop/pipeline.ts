// The pipeline the fault suite breaks: the sample shop (configs/pipeline.ts: three incremental bronze
// tables, a dedup stage, a checked silver model with a quarantine, two gold models) with small chunks, so
// a load crosses several chunk boundaries, and a fourth bronze table split into two partition tasks
// (one chunk each).
// Its connection is a secret, so the canary test can plant a secret value where a real one would be.

import { bronze, check, gold, pipeline, secret, silver, source } from "../../../runtime/declare/index.ts";

export const SHOP_SECRET = "shop-db-url";

const shop = source.postgres("shop", { connection: secret(SHOP_SECRET), chunkRows: 1_100 });
// The same database read in bigger chunks: one per partition.
const shopWhole = source.postgres("shop_whole", { connection: secret(SHOP_SECRET), chunkRows: 100_000 });

const customers = bronze.table(shop, { table: "public.customers", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] } });
const orders = bronze.table(shop, {
  table: "public.orders", primaryKey: "id", incremental: { cursor: ["updated_at", "id"], lookBack: "1 hour" },
});
const orderLines = bronze.table(shop, {
  name: "order_lines", table: "public.order_lines", primaryKey: ["order_id", "line_no"],
  incremental: { cursor: ["updated_at", "order_id", "line_no"], lookBack: "1 hour" },
});
// A full load every run, in two partition tasks: the stage's own task commits both partitions' files.
const skus = bronze.table(shopWhole, {
  name: "lines_full", table: "public.order_lines", primaryKey: ["order_id", "line_no"],
  partitions: { kind: "chunks", column: "order_id", count: 2 },
});

const people = silver.dedup("people", {
  from: customers,
  id: "id",
  blocking: [["date_of_birth"], ["last_name", "first_name"], ["lower(email)"]],
  compare: {
    first_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.88 }] },
    last_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.88 }] },
    date_of_birth: { levels: [{ kind: "exact" }, { kind: "dateDifference", max: 1, unit: "year" }] },
    email: { levels: [{ kind: "sql", sql: "lower(l.email) = lower(r.email)", label: "same address" }] },
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
    check.expect("quantities_positive", "min_quantity > 0", { severity: "drop" }),
  ],
});

const dailyRevenue = gold.model("daily_revenue", {
  from: { orders_clean: ordersClean },
  sql: "transformations/gold/daily_revenue.sql",
  checks: [check.rowCount({ min: 1 })],
});

const customerValue = gold.model("customer_value", {
  from: { orders_clean: ordersClean, people },
  sql: "transformations/gold/customer_value.sql",
});

const lineCount = gold.model("line_count", {
  from: { lines_full: skus },
  sql: "select sku, count(*) as n, sum(quantity) as quantity from lines_full group by sku",
});

export const shopPipeline = pipeline("faultshop", {
  schedule: "0 */15 * * * *",
  stages: [customers, orders, orderLines, skus, people, ordersClean, dailyRevenue, customerValue, lineCount],
  engine: { memoryLimit: "512MB", threads: 1 },
});
