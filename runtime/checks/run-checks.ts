// Run a model's quality checks in DuckDB against the materialised model (the table `model`), and build
// the per-row failure list that splits rows into output and quarantine for checks with severity `drop`.

import type { DuckDBConnection } from "@duckdb/node-api";
import { type Check, isRowCheck, type RowCheck } from "../declare/checks.ts";
import { durationSeconds } from "../declare/duration.ts";
import { queryRows } from "../engine/engine.ts";
import { quoteIdent, sqlValue } from "../engine/sql.ts";
import { StageError, describeError } from "../errors.ts";
import type { CheckResult } from "../state/run-records.ts";
import { sampleRows } from "./sample.ts";

/** The column added to quarantined rows: names of the checks each row failed. */
export const FAILED_CHECKS_COLUMN = "_mallard_failed_checks";

/** SQL condition that is TRUE for a row failing a row check. */
export function rowFailure(check: RowCheck): string {
  switch (check.kind) {
    case "not_null":
      return `${quoteIdent(check.column)} IS NULL`;
    case "accepted_values":
      return `${quoteIdent(check.column)} IS NOT NULL AND ${quoteIdent(check.column)} NOT IN (${check.values.map(sqlValue).join(", ")})`;
    case "range": {
      const col = quoteIdent(check.column);
      const parts = [];
      if (check.min !== undefined) parts.push(`${col} < ${sqlValue(check.min)}`);
      if (check.max !== undefined) parts.push(`${col} > ${sqlValue(check.max)}`);
      return parts.length ? `coalesce(${parts.join(" OR ")}, false)` : "false";
    }
    case "sql_row":
      return `NOT coalesce((${check.condition}), false)`;
  }
}

/** Condition for rows of a duplicated key (the `unique` check's failing rows). */
function duplicateKeyCondition(columns: readonly string[]): string {
  const cols = columns.map(quoteIdent).join(", ");
  return `(${cols}) IN (SELECT (${cols}) FROM model GROUP BY ALL HAVING count(*) > 1)`;
}

/** Condition for a check's failing rows when it can quarantine (row checks and `unique`). */
export function failingRowsCondition(check: Check): string | undefined {
  if (isRowCheck(check)) return rowFailure(check);
  if (check.kind === "unique") return duplicateKeyCondition(check.columns);
  return undefined;
}

export async function runChecks(con: DuckDBConnection, stage: string, checks: readonly Check[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push(await runCheck(con, check));
    } catch (e) {
      throw new StageError(`stage "${stage}": checks: ${check.name}: ${describeError(e)}`);
    }
  }
  return results;
}

async function runCheck(con: DuckDBConnection, check: Check): Promise<CheckResult> {
  const result = (failingRows: number, detail?: string, sample?: CheckResult["sample"]): CheckResult => ({
    name: check.name, kind: check.kind, severity: check.severity, passed: failingRows === 0, failingRows, detail, ...(sample?.length ? { sample } : {}),
  });
  const condition = failingRowsCondition(check);
  if (condition) {
    const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM model WHERE ${condition}`);
    // The sample costs a query only when something failed.
    const sample = Number(n) ? await sampleRows(con, `SELECT * FROM model WHERE ${condition}`) : undefined;
    return result(Number(n), Number(n) ? `${n} failing rows` : undefined, sample);
  }
  switch (check.kind) {
    case "row_count": {
      const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM model`);
      const rows = Number(n);
      const ok = (check.min === undefined || rows >= check.min) && (check.max === undefined || rows <= check.max);
      return result(ok ? 0 : 1, `${rows} rows (expected ${check.min ?? "any"}..${check.max ?? "any"})`);
    }
    case "freshness": {
      const seconds = durationSeconds(check.maxAge);
      const [row] = await queryRows<{ newest: string | null; age: number | null }>(
        con,
        `SELECT max(${quoteIdent(check.column)})::VARCHAR AS newest, ` +
          `epoch(now()) - epoch(max(${quoteIdent(check.column)})::TIMESTAMPTZ) AS age FROM model`,
      );
      const ok = row.age !== null && row.age <= seconds;
      return result(ok ? 0 : 1, `newest ${row.newest ?? "none"} (max age ${check.maxAge})`);
    }
    case "sql": {
      const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM (${check.sql}) AS failing`);
      const sample = Number(n) ? await sampleRows(con, check.sql) : undefined;
      return result(Number(n), Number(n) ? `${n} rows returned` : undefined, sample);
    }
    default:
      throw new Error(`unhandled check kind ${check.kind}`);
  }
}

/**
 * SQL expression listing, per row, the `drop` checks it fails (an empty list keeps the row).
 * Undefined when no check drops rows.
 */
export function failedChecksExpression(checks: readonly Check[]): string | undefined {
  const parts = checks
    .filter((c) => c.severity === "drop")
    .flatMap((c) => {
      const condition = failingRowsCondition(c);
      return condition ? [`CASE WHEN ${condition} THEN ${sqlValue(c.name)} END`] : [];
    });
  return parts.length ? `list_filter([${parts.join(", ")}], x -> x IS NOT NULL)` : undefined;
}
