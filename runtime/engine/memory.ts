// The engine's memory budget. `memoryLimit` is what the whole engine may use: the Node process around
// DuckDB as well as DuckDB itself. DuckDB's own `memory_limit` bounds only its buffer pool, so it is set
// lower by a reserve for the rest. Measured on the 1M-record dedup (bench:dedup): the Node process with
// DuckDB loaded holds ~115 MiB before any query, and the allocator keeps 10–15% of what DuckDB frees;
// with DuckDB given the whole limit, the process peaked at 1,172 MiB under a 1GB limit; with a 15% share
// it still peaked at 935–1,025 MiB (over 954 MiB on a run at 14:11 UTC 2026-12-02), with 25% at 837 MiB.

/** Fixed part of the reserve: Node, its modules and DuckDB's code and threads. */
const RESERVE_BYTES = 160 * 2 ** 20;
/** Proportional part: allocator slack and DuckDB state outside its buffer pool. */
const RESERVE_SHARE = 0.25;
/**
 * Below this a process budget cannot be honoured (Node alone needs ~115 MiB): small engines (model
 * validation, bronze state, tests) give DuckDB the whole limit, as a plain DuckDB limit.
 */
const SMALLEST_PROCESS_BUDGET = 4 * RESERVE_BYTES;

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** A memory size as DuckDB reads it ("1GB" is 10^9 bytes, "1GiB" 2^30), in bytes. */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a memory size: "${text}" (e.g. "1GB", "512MiB")`);
  return Number(m[1]) * unit;
}

/** DuckDB's `memory_limit` for an engine whose whole budget is `memoryLimit`: the limit less the reserve. */
export function duckdbMemoryLimit(memoryLimit: string): string {
  const total = parseMemorySize(memoryLimit);
  if (total < SMALLEST_PROCESS_BUDGET) return memoryLimit;
  return `${Math.floor((total - RESERVE_BYTES - RESERVE_SHARE * total) / 2 ** 20)}MiB`;
}
