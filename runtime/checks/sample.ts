// A few rows of a query as text, small enough for a run record: what a report shows beside a failing
// check (its failing or quarantined rows) or a merged entity (its records).

import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows } from "../engine/engine.ts";
import type { SampleRow } from "../state/run-records.ts";

/** Rows per sample, columns per row and characters per value: a run record stays a few kilobytes. */
export const SAMPLE_LIMITS = { rows: 5, columns: 24, chars: 160 } as const;

/** The first `rows` rows of `query`, each value cast to text and cut to `chars`. */
export async function sampleRows(con: DuckDBConnection, query: string, rows: number = SAMPLE_LIMITS.rows): Promise<SampleRow[]> {
  // COLUMNS(*)::VARCHAR keeps each column's name: every type becomes its DuckDB text form.
  const found = await queryRows<Record<string, string | null>>(con, `SELECT COLUMNS(*)::VARCHAR FROM (${query}) LIMIT ${Math.max(0, Math.floor(rows))}`);
  return found.map((row) => Object.fromEntries(Object.entries(row).slice(0, SAMPLE_LIMITS.columns).map(([k, v]) => [k, cut(v)])));
}

function cut(value: string | null): string | null {
  if (value === null || value.length <= SAMPLE_LIMITS.chars) return value;
  return `${value.slice(0, SAMPLE_LIMITS.chars - 1)}…`;
}
