// Reduce a set of record pairs to agreement-pattern counts (one row per distinct comparison vector):
// the only data training moves from DuckDB to JavaScript, and its size is bounded by the model, not the data.

import type { DuckDBConnection } from "@duckdb/node-api";
import { gammaSql, sharedTerms, valuePairSql } from "./comparisons.ts";
import type { Pattern } from "./em.ts";
import { col, type Model } from "./model.ts";
import { quoteIdent } from "./sql.ts";

/**
 * The pairs of `from` (aliases `l`, `r`) as rows with `l` and `r` structs of the columns comparisons read
 * (plus `extra` record columns), each comparison's shared similarity values, and `pass` columns of
 * `from`. Gamma CASEs then read `l.col` as before, and each similarity function runs once per pair.
 */
export function pairRows(model: Model, from: string, extra: readonly string[] = [], pass: readonly string[] = []): {
  sql: string;
  gammas: string[];
} {
  const fields = [
    ...new Set([
      ...model.comparisons.flatMap((c) => c.columns),
      ...model.comparisons.filter((c) => c.spec.termFrequency).map((c) => col.tf(c.name)),
      ...model.comparisons.flatMap((c) => (c.dateColumn ? [c.dateColumn] : [])),
      ...extra,
    ]),
  ];
  const struct = (alias: string) =>
    `{${fields.map((f) => `${quoteIdent(f)}: ${alias}.${quoteIdent(f)}`).join(", ")}} AS ${alias}`;
  const terms = model.comparisons.map((c, i) => sharedTerms(c, i));
  const termCols = terms.flat().map((t) => `${t.sql} AS ${quoteIdent(t.alias)}`);
  const gammas = model.comparisons.map((c, i) => gammaSql(c, new Map(terms[i].map((t) => [t.fn, t.alias]))));
  const sql = `(SELECT ${[...pass, struct("l"), struct("r"), ...termCols].join(", ")} FROM ${from})`;
  return { sql, gammas };
}

/**
 * Pattern counts over the pairs of `from` (a FROM clause with aliases `l` and `r`). `flags` are extra
 * boolean expressions over the pair, carried per pattern, reading the record columns `flagColumns`.
 */
export async function patternCounts(
  con: DuckDBConnection,
  model: Model,
  from: string,
  flags: readonly string[] = [],
  flagColumns: readonly string[] = [],
): Promise<Pattern[]> {
  const rows = pairRows(model, from, flagColumns);
  const gammas = rows.gammas.map((g, i) => `${g} AS g${i}`);
  const flagCols = flags.map((f, i) => `coalesce(${f}, FALSE) AS f${i}`);
  const groupCols = [...gammas.map((_, i) => `g${i}`), ...flagCols.map((_, i) => `f${i}`)];
  const reader = await con.runAndReadAll(`
    SELECT ${groupCols.join(", ")}, count(*) AS n
    FROM (SELECT ${[...gammas, ...flagCols].join(", ")} FROM ${rows.sql})
    GROUP BY ALL`);
  return toPatterns(model, reader.getRowObjectsJS(), flags.length);
}

function toPatterns(model: Model, rows: Record<string, unknown>[], flagCount: number): Pattern[] {
  const correlated = model.comparisons.some((c) => c.given.length > 0);
  return rows.map((row) => {
    const gammas = model.comparisons.map((_, i) => Number(row[`g${i}`]));
    return {
      gammas,
      flags: Array.from({ length: flagCount }, (_, i) => row[`f${i}`] === true),
      count: Number(row.n),
      ...(correlated ? { given: givenFlags(model, gammas) } : {}),
    };
  });
}

/** Index of comparison c's `aliases` level, or -1. */
const aliasLevelOf = (model: Model, c: number) => model.comparisons[c].spec.levels.findIndex((l) => l.kind === "aliases");

/**
 * Sampled pairs kept one row each (tag, levels g<i>, flags f<j>, and for each comparison with an
 * `aliases` level the value-pair hash a<i> of the pairs that fell past that level), so their patterns
 * can be counted again once aliases are learned without computing any similarity again.
 */
export class KeptPairs {
  constructor(
    private readonly con: DuckDBConnection,
    private readonly model: Model,
    readonly table: string,
    private readonly flagCount: number,
  ) {}

  private aliased(): number[] {
    return this.model.comparisons.flatMap((_, c) => (aliasLevelOf(this.model, c) >= 0 ? [c] : []));
  }

  async create(): Promise<void> {
    const columns = [
      "tag INTEGER",
      ...this.model.comparisons.map((_, i) => `g${i} INTEGER`),
      ...Array.from({ length: this.flagCount }, (_, j) => `f${j} BOOLEAN`),
      ...this.aliased().map((c) => `a${c} UBIGINT`),
    ];
    await this.con.run(`CREATE OR REPLACE TABLE ${this.table} (${columns.join(", ")})`);
  }

  /** Keep the pairs of `from` under `tag` and return their pattern counts. */
  async add(tag: number, from: string, flags: readonly string[] = [], flagColumns: readonly string[] = []): Promise<Pattern[]> {
    const rows = pairRows(this.model, from, flagColumns);
    const pairs = this.aliased().map((c) => `${valuePairSql(this.model.comparisons[c])} AS v${c}`);
    const inner = [...rows.gammas.map((g, i) => `${g} AS g${i}`), ...flags.map((f, j) => `coalesce(${f}, FALSE) AS f${j}`), ...pairs];
    const outer = [
      String(tag),
      ...this.model.comparisons.map((_, i) => `g${i}`),
      ...Array.from({ length: this.flagCount }, (_, j) => (j < flags.length ? `f${j}` : "FALSE")),
      ...this.aliased().map((c) => `CASE WHEN g${c} > ${aliasLevelOf(this.model, c)} THEN v${c} END`),
    ];
    await this.con.run(`INSERT INTO ${this.table} SELECT ${outer.join(", ")} FROM (SELECT ${inner.join(", ")} FROM ${rows.sql})`);
    return this.patterns(tag, flags.length);
  }

  /** Pattern counts of the pairs kept under `tag`, each `aliases` level decided by the aliases now in place. */
  async patterns(tag: number, flagCount: number): Promise<Pattern[]> {
    const gammas = this.model.comparisons.map((c, i) => {
      const k = aliasLevelOf(this.model, i);
      return k >= 0 && c.aliasSet ? `CASE WHEN a${i} IN ${c.aliasSet} THEN ${k} ELSE g${i} END AS g${i}` : `g${i}`;
    });
    const flags = Array.from({ length: flagCount }, (_, j) => `f${j}`);
    const reader = await this.con.runAndReadAll(`
      SELECT ${[...this.model.comparisons.map((_, i) => `g${i}`), ...flags].join(", ")}, count(*) AS n
      FROM (SELECT ${[...gammas, ...flags].join(", ")} FROM ${this.table} WHERE tag = ${tag})
      GROUP BY ALL`);
    return toPatterns(this.model, reader.getRowObjectsJS(), flagCount);
  }
}

/** Per comparison: does its `correlatedWith` condition hold (all of them at level 0, exact)? */
export function givenFlags(model: Model, gammas: readonly number[]): boolean[] {
  return model.comparisons.map((c) => c.given.length > 0 && c.given.every((g) => gammas[g] === 0));
}
