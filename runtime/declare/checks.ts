// Quality checks on any model, after Soda / Databricks DLT expectations: warn, drop (quarantine) or fail.

import type { Duration } from "./duration.ts";

/**
 * What a failing check does.
 * - `warn`: recorded in the run record and printed; rows stay.
 * - `drop`: failing rows move to a quarantine table beside the model; the rest continue. Row checks only.
 * - `fail`: the model is not published and nothing downstream of it runs.
 */
export type Severity = "warn" | "drop" | "fail";

interface CheckBase {
  /** Name shown in run records. Defaults to the kind and its columns, e.g. `not_null(id)`. */
  readonly name: string;
  readonly severity: Severity;
  /** For a `warn` check: notify (pipeline `notify`) when more rows than this fail. @default the pipeline's `notify.warnAbove` */
  readonly notifyAbove?: number;
}

/** Checks that judge one row at a time and so can quarantine (`drop`). */
export type RowCheck =
  | (CheckBase & { kind: "not_null"; column: string })
  | (CheckBase & { kind: "accepted_values"; column: string; values: readonly (string | number | boolean)[] })
  | (CheckBase & { kind: "range"; column: string; min?: number | string; max?: number | string })
  | (CheckBase & { kind: "sql_row"; condition: string });

/** Checks over the whole table; `drop` does not apply. `unique` drops every row of a duplicated key. */
export type TableCheck =
  | (CheckBase & { kind: "unique"; columns: readonly string[] })
  | (CheckBase & { kind: "row_count"; min?: number; max?: number })
  | (CheckBase & { kind: "freshness"; column: string; maxAge: Duration })
  | (CheckBase & { kind: "sql"; sql: string });

export type Check = RowCheck | TableCheck;
export type CheckKind = Check["kind"];

interface CheckOptions {
  /** @default "fail" */
  severity?: Severity;
  name?: string;
  /**
   * A `warn` check notifies (through the pipeline's `notify` webhooks) when more rows than this fail.
   * @default the pipeline's `notify.warnAbove` (0)
   */
  notifyAbove?: number;
}

const base = (kind: string, detail: string, options: CheckOptions | undefined) => ({
  name: options?.name ?? `${kind}(${detail})`,
  severity: options?.severity ?? ("fail" as Severity),
  ...(options?.notifyAbove !== undefined ? { notifyAbove: options.notifyAbove } : {}),
});

export const check = {
  /** The column is never NULL. */
  notNull(column: string, options?: CheckOptions): Check {
    return { kind: "not_null", column, ...base("not_null", column, options) };
  },
  /** No two rows share these columns. @example check.unique(["order_id", "line_no"]) */
  unique(columns: string | readonly string[], options?: CheckOptions): Check {
    const list = typeof columns === "string" ? [columns] : [...columns];
    return { kind: "unique", columns: list, ...base("unique", list.join(", "), options) };
  },
  /** The column is NULL or one of the values. */
  acceptedValues(column: string, values: readonly (string | number | boolean)[], options?: CheckOptions): Check {
    return { kind: "accepted_values", column, values, ...base("accepted_values", column, options) };
  },
  /** The column is NULL or within [min, max] (either bound optional; dates as ISO strings). */
  range(column: string, bounds: { min?: number | string; max?: number | string }, options?: CheckOptions): Check {
    return { kind: "range", column, ...bounds, ...base("range", column, options) };
  },
  /** The table has between min and max rows. */
  rowCount(bounds: { min?: number; max?: number }, options?: CheckOptions): Check {
    return { kind: "row_count", ...bounds, ...base("row_count", `${bounds.min ?? ""}..${bounds.max ?? ""}`, options) };
  },
  /** The newest value of a timestamp column is at most `maxAge` old. */
  freshness(column: string, maxAge: Duration, options?: CheckOptions): Check {
    return { kind: "freshness", column, maxAge, ...base("freshness", column, options) };
  },
  /**
   * A custom check: a SQL query over the model (available as the view `model`) that returns the failing
   * rows; any row returned fails it.
   * @example check.sql("no_negative_totals", "select * from model where total < 0", { severity: "warn" })
   */
  sql(name: string, sql: string, options?: Omit<CheckOptions, "name">): Check {
    return { kind: "sql", sql, ...base("sql", "", { ...options, name }) };
  },
  /** A row-level boolean condition that must hold; rows where it is false fail (and can be dropped). */
  expect(name: string, condition: string, options?: Omit<CheckOptions, "name">): Check {
    return { kind: "sql_row", condition, ...base("sql_row", "", { ...options, name }) };
  },
};

export function isRowCheck(c: Check): c is RowCheck {
  return c.kind === "not_null" || c.kind === "accepted_values" || c.kind === "range" || c.kind === "sql_row";
}
