// Partition boundaries of a SQL table, for sources that sample the key themselves (MySQL, SQL Server,
// Oracle). `count`: quantiles of a random sample of the key, sorted by the server (so text keys follow the
// column's collation, the order the range predicates use), giving ranges of similar row counts however
// skewed the key. `step`: fixed-width ranges from the minimum, computed exactly (integers and decimals as
// scaled BigInts, dates and datetimes in UTC).

import { parseDuration } from "../../declare/duration.ts";
import { SourceError } from "../../errors.ts";
import type { SourceColumn, SplitRequest } from "../source.ts";

/** Rows sampled for quantiles: 10 000 values place 64 boundaries within ~1 % of their true rank. */
export const SAMPLE_ROWS = 10_000;
const MAX_RANGES = 10_000;

/** Inner boundaries at the sample's quantiles: `count - 1` of them at most, ascending and distinct. */
export function quantilePoints(sorted: readonly string[], count: number): string[] {
  const points: string[] = [];
  if (sorted.length === 0) return points;
  for (let k = 1; k < count; k++) {
    const value = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / count))];
    // The first range starts at the minimum: a boundary equal to it would make an empty range.
    if (value !== sorted[0] && value !== points.at(-1)) points.push(value);
  }
  return points;
}

/** Boundaries every `step` from `min` (exclusive) to `max` (inclusive). */
export function stepPoints(column: SourceColumn, min: string, max: string, step: SplitRequest & { step: unknown }): string[] {
  const type = column.duckType;
  const points: string[] = [];
  const push = (p: string) => {
    if (points.length >= MAX_RANGES) throw new SourceError(`partitions: "${column.name}" splits into more than ${MAX_RANGES.toLocaleString("en-US")} ranges; use a larger step`);
    points.push(p);
  };
  if (/INT$|^DECIMAL/.test(type)) {
    if (typeof step.step !== "number" || !(step.step > 0)) throw new SourceError(`partitions.step: "${column.name}" is ${column.sourceType}: the step must be a positive number`);
    const scale = Number(/^DECIMAL\(\d+,(\d+)\)$/.exec(type)?.[1] ?? 0);
    const lo = scaled(min, scale);
    const hi = scaled(max, scale);
    const width = scaled(String(step.step), scale);
    if (width <= 0n) throw new SourceError(`partitions.step: ${step.step} is finer than "${column.name}" (${column.sourceType}) can hold`);
    for (let p = lo + width; p <= hi; p += width) push(unscaled(p, scale));
    return points;
  }
  if (type === "DATE" || type === "TIMESTAMP" || type === "TIMESTAMPTZ") {
    const ms = typeof step.step === "string" ? parseDuration(step.step) : undefined;
    if (!ms || ms <= 0) throw new SourceError(`partitions.step: "${column.name}" is ${column.sourceType}: the step must be a duration such as "7 days"`);
    const lo = Date.parse(`${min.replace(" ", "T")}Z`);
    const hi = Date.parse(`${max.replace(" ", "T")}Z`);
    if (Number.isNaN(lo) || Number.isNaN(hi)) throw new SourceError(`partitions: "${column.name}" holds values that are not dates (${min} … ${max})`);
    for (let p = lo + ms; p <= hi; p += ms) {
      const iso = new Date(p).toISOString();
      push(type === "DATE" ? iso.slice(0, 10) : iso.slice(0, 23).replace("T", " "));
    }
    return points;
  }
  throw new SourceError(`partitions: "${column.name}" (${column.sourceType}) cannot be split by a step; use { kind: "chunks", count }`);
}

function scaled(value: string, scale: number): bigint {
  const [whole, fraction = ""] = value.replace(/^\+/, "").split(".");
  const negative = whole.startsWith("-");
  const digits = BigInt(`${whole.replace("-", "") || "0"}${fraction.padEnd(scale, "0").slice(0, scale)}`);
  return negative ? -digits : digits;
}

function unscaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}
