// DuckDB's cast of a date or timestamp's text as PostgreSQL and Oracle's connector write it: a BC value
// carries a ` BC` suffix (`0044-03-15 12:00:00 BC`), which DuckDB reads only as `0044-03-15 (BC) 12:00:00`;
// without the rewrite DuckDB would read the year as AD or refuse the value.

/** `CAST(text AS duckType)` for DATE, TIMESTAMP or TIMESTAMPTZ text that may end in ` BC`. */
export function castTimeText(text: string, duckType: string): string {
  return `CASE WHEN suffix(${text}, ' BC') THEN CAST(regexp_replace(${text}, '^(\\d+-\\d+-\\d+)(.*) BC$', '\\1 (BC)\\2') AS ${duckType}) ` +
    `ELSE CAST(${text} AS ${duckType}) END`;
}
