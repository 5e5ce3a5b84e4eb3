import { connect, parseTarget } from "./runtime/sources/mysql/connect.ts";
import { queryBlocks } from "./runtime/sources/mysql/stream.ts";
const target = parseTarget("mysql://root@127.0.0.1:3306/mallard_bench", "mariadb");
const con = await connect(target);
async function raw() {
  const t = performance.now(); let rows = 0; const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve, reject) => { const q = con.query({ sql: "SELECT * FROM orders_1000000", rowsAsArray: true, typeCast: false }); q.on("result", () => rows++); q.on("end", () => resolve()); q.on("error", reject); });
  const c = process.cpuUsage(cpu0);
  console.log("raw mysql2", rows, ((performance.now()-t)/1000).toFixed(2), "s cpu", ((c.user+c.system)/1e6).toFixed(2));
}
async function blocks() {
  const t = performance.now(); let rows = 0; const cpu0 = process.cpuUsage();
  for await (const b of queryBlocks(con, "SELECT id, updated_at, customer_id, amount, status, note FROM orders_1000000", { groupRows: 1000000, plain: [true,true,true,true,false,false], zeroDates: [false,true,false,false,false,false], cursorIndexes: [], maxRowBytes: 8<<20 }, [])) { rows += b.rows; }
  const c = process.cpuUsage(cpu0);
  console.log("blocks", rows, ((performance.now()-t)/1000).toFixed(2), "s cpu", ((c.user+c.system)/1e6).toFixed(2));
}
await raw(); await blocks(); await raw(); await blocks();
con.destroy();
