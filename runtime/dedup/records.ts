// The records every later step reads: a 64-bit key per record, the compared and prepared columns, one
// hashed key per blocking rule, a term frequency per term-frequency comparison, a hash of what linking
// reads (to find edited records next run) and whether the record is linked this run. Built once per run.

import type { DuckDBConnection } from "@duckdb/node-api";
import { StageError } from "../errors.ts";
import { preparedRowsSql } from "./expressions.ts";
import { col, comparedColumns, type Model, type NormalRule, type TableNames } from "./model.ts";
import { linkFingerprint } from "./params.ts";
import { quoteIdent, quoteLiteral } from "./sql.ts";

/** What the last run left that decides which records are linked again. */
export interface PreviousEntities {
  /** Table with the id column, `entity_id` and (since records carry hashes) `record_hash`. */
  table: string;
  /** Whether it has `record_hash`; without it every record counts as edited. */
  hasHashes: boolean;
}

/**
 * How records are chosen for linking. `incremental`: records that are new, whose hash changed, or that
 * share a previous entity with such a record or with one that left the input; every other record keeps
 * its entity. `all`: every record (the previous entities only keep ids stable).
 */
export type LinkScope = "incremental" | "all";

/**
 * A rule's key: a hash of its expressions, NULL when any is NULL so missing values never block together.
 * For a list rule, one hash per distinct element (with the other parts). A hash collision only adds a
 * candidate pair (which is then scored), so 64 bits are plenty.
 */
export function keySql(rule: NormalRule): string {
  const others = rule.exprs.filter((_, i) => i !== rule.listPart);
  const anyNull = others.map((e) => `${e} IS NULL`);
  if (rule.listPart < 0) return `CASE WHEN ${anyNull.join(" OR ")} THEN NULL ELSE hash(${rule.exprs.join(", ")}) END`;
  const list = rule.exprs[rule.listPart];
  const element = `hash(${["x", ...others].join(", ")})`;
  const keys = `list_transform(list_distinct(list_filter(${list}, x -> x IS NOT NULL)), x -> ${element})`;
  return anyNull.length > 0 ? `CASE WHEN ${anyNull.join(" OR ")} THEN NULL ELSE ${keys} END` : keys;
}

/** Input columns whose values decide a record's links: what comparisons and prediction rules read. */
function linkedColumns(model: Model): string[] {
  const columns = new Set([...model.comparisons.flatMap((c) => c.sources), ...model.blocking.flatMap((r) => r.columns)]);
  return [...columns].sort();
}

/** A record's hash: the linked columns' values, seeded with the link fingerprint (a model change relinks all). */
function recordHashSql(model: Model, alias: string): string {
  const values = linkedColumns(model).map((c) => `CAST(${alias}.${quoteIdent(c)} AS VARCHAR)`);
  return `substr(md5(${quoteLiteral(linkFingerprint(model))} || to_json(list_value(${values.join(", ") || "NULL"}))), 1, 16)`;
}

/**
 * SELECT of the records as linking sees them: `_dd_id`, the compared and prepared columns, the record's
 * hash, whether it is linked this run (`_dd_new`) and its previous entity. Budget counts and the records
 * table both read it, so the budget is exact for what is built.
 */
export function recordSourceSql(model: Model, input: string, previous: PreviousEntities | undefined, scope: LinkScope): string {
  const id = quoteIdent(model.id);
  const rows = preparedRowsSql(model, input);
  const keep = [...new Set([...comparedColumns(model), ...model.prepared.map((p) => p.name)])].map((c) => `s.${quoteIdent(c)}`);
  const ruleParts = [...model.blocking, ...model.training].flatMap((r) => r.columns);
  const extra = [...new Set(ruleParts)].filter((c) => !comparedColumns(model).includes(c)).map((c) => `s.${quoteIdent(c)}`);
  const base = [`s.${id} AS ${quoteIdent(col.id)}`, ...keep, ...extra, `${recordHashSql(model, "s")} AS ${quoteIdent(col.hash)}`];
  if (!previous) {
    return `SELECT ${base.join(", ")}, TRUE AS ${quoteIdent(col.isNew)}, CAST(NULL AS VARCHAR) AS ${quoteIdent(col.prevEntity)} FROM ${rows} s`;
  }
  const hash = quoteIdent(col.hash);
  const prevHash = previous.hasHashes ? "p.record_hash" : "CAST(NULL AS VARCHAR)";
  const cur = `(SELECT ${base.join(", ")} FROM ${rows} s)`;
  if (scope === "all") {
    return `SELECT c.*, TRUE AS ${quoteIdent(col.isNew)}, p.entity_id AS ${quoteIdent(col.prevEntity)}
      FROM ${cur} c LEFT JOIN ${previous.table} p ON p.${id} = c.${quoteIdent(col.id)}`;
  }
  // An entity is touched when a member changed or left the input: all its records are linked again, so
  // it can split where the change broke its links. Untouched entities stay whole.
  return `WITH c AS ${cur},
    j AS (
      SELECT c.*, p.entity_id AS prev_entity, p.${id} IS NOT NULL AS was_seen,
             ${prevHash} IS DISTINCT FROM c.${hash} AS edited
      FROM c LEFT JOIN ${previous.table} p ON p.${id} = c.${quoteIdent(col.id)}
    ),
    touched AS (
      SELECT prev_entity AS entity_id FROM j WHERE was_seen AND edited
      UNION SELECT p.entity_id FROM ${previous.table} p ANTI JOIN c ON c.${quoteIdent(col.id)} = p.${id}
    )
    SELECT j.* EXCLUDE (prev_entity, was_seen, edited),
           NOT j.was_seen OR j.prev_entity IN (SELECT entity_id FROM touched) AS ${quoteIdent(col.isNew)},
           j.prev_entity AS ${quoteIdent(col.prevEntity)}
    FROM j`;
}

export interface RecordCounts {
  total: number;
  /** Records linked this run (all of them in a full run). */
  fresh: number;
}

/**
 * Write the record source (see recordSourceSql) to the `source` working table once: the budget counts
 * every rule over it and the records table is built from it, so prepare expressions and record hashes
 * are computed once per record. Returns the SELECT that reads it.
 */
export async function materialiseSource(
  con: DuckDBConnection,
  model: Model,
  input: string,
  names: TableNames,
  previous: PreviousEntities | undefined,
  scope: LinkScope,
): Promise<string> {
  await con.run(`CREATE OR REPLACE TABLE ${names.source} AS ${recordSourceSql(model, input, previous, scope)}`);
  return `SELECT * FROM ${names.source}`;
}

/** Create the records table from the record source (a SELECT, see materialiseSource). */
export async function prepareRecords(
  con: DuckDBConnection,
  source: string,
  model: Model,
  names: TableNames,
  stage: string,
): Promise<RecordCounts> {
  const keys = [
    ...model.blocking.map((r, i) => `${keySql(r)} AS ${quoteIdent(col.blockKey(i))}`),
    ...model.training.map((r, i) => `${keySql(r)} AS ${quoteIdent(col.trainKey(i))}`),
    ...givenSets(model).map((set, i) => `${givenKeySql(model, set)} AS ${quoteIdent(col.givenKey(i))}`),
  ];
  // Term frequency = share of non-null records holding the value, over all records, old and new. A
  // GROUP BY joined back is 8x faster than count(*) OVER (PARTITION BY …) on 1M records.
  const tfComparisons = model.comparisons.filter((c) => c.spec.termFrequency);
  const tfJoins = tfComparisons.map((c, i) => {
    const v = quoteIdent(c.column);
    return `LEFT JOIN (SELECT ${v} AS v, count(*) / sum(count(*)) OVER () AS tf FROM (${source})
                       WHERE ${v} IS NOT NULL GROUP BY ${v}) tf${i} ON tf${i}.v = s.${v}`;
  });
  const tfCols = tfComparisons.map((c, i) => `tf${i}.tf AS ${quoteIdent(col.tf(c.name))}`);
  // The internal record key is a 64-bit hash of the id, not row_number() OVER (ORDER BY id): that sort
  // carried every column and took 4 s of a 1M-record run. Collisions are checked below.
  const dates = model.comparisons.flatMap((c) =>
    c.dateColumn ? [`TRY_CAST(s.${quoteIdent(c.column)} AS DATE) AS ${quoteIdent(c.dateColumn)}`] : [],
  );
  const select = [`hash(s.${quoteIdent(col.id)}) AS ${quoteIdent(col.rid)}`, "s.*", ...keys, ...tfCols, ...dates];
  await con.run(`
    CREATE OR REPLACE TABLE ${names.records} AS
    SELECT ${select.join(", ")} FROM (${source}) s ${tfJoins.join(" ")}`);
  await con.run(`DROP TABLE IF EXISTS ${names.source}`);
  for (const [i, rule] of model.blocking.entries()) await purgeBlocks(con, names, col.blockKey(i), rule);
  for (const [i, rule] of model.training.entries()) await purgeBlocks(con, names, col.trainKey(i), rule);
  const reader = await con.runAndReadAll(`
    SELECT count(*) AS total, count(DISTINCT ${quoteIdent(col.id)}) AS ids,
           count(DISTINCT ${quoteIdent(col.rid)}) AS rids,
           count(*) FILTER (WHERE ${quoteIdent(col.id)} IS NULL) AS null_ids,
           count(*) FILTER (WHERE ${quoteIdent(col.isNew)}) AS fresh
    FROM ${names.records}`);
  const row = reader.getRowObjectsJS()[0];
  const total = Number(row.total);
  if (Number(row.null_ids) > 0) {
    throw new StageError(`stage "${stage}": id: ${row.null_ids} records have a NULL ${model.id}`);
  }
  if (Number(row.ids) !== total) {
    throw new StageError(
      `stage "${stage}": id: ${model.id} is not unique (${total} records, ${row.ids} distinct ids)`,
    );
  }
  if (Number(row.rids) !== total) {
    throw new StageError(`stage "${stage}": two record ids hash alike (a 1 in 10^7 event at 10^6 records); please report it`);
  }
  return { total, fresh: Number(row.fresh) };
}

/** Block purging: keys held by more than `maxBlockRecords` records are removed from the rule's key column. */
async function purgeBlocks(con: DuckDBConnection, names: TableNames, keyColumn: string, rule: NormalRule): Promise<void> {
  if (rule.maxBlockRecords === undefined) return;
  const key = quoteIdent(keyColumn);
  const rid = quoteIdent(col.rid);
  if (rule.listPart < 0) {
    await con.run(`UPDATE ${names.records} SET ${key} = NULL WHERE ${key} IN (
      SELECT ${key} FROM ${names.records} WHERE ${key} IS NOT NULL GROUP BY ${key} HAVING count(*) > ${rule.maxBlockRecords})`);
    return;
  }
  const purged = quoteIdent(`${unquote(names.records)}_purged`);
  await con.run(`
    CREATE OR REPLACE TEMP TABLE ${purged} AS
    WITH x AS (SELECT ${rid} AS rid, unnest(${key}) AS k FROM ${names.records}),
    big AS (SELECT k FROM x GROUP BY k HAVING count(*) > ${rule.maxBlockRecords})
    SELECT rid, list(k) AS keys FROM x ANTI JOIN big USING (k) GROUP BY rid`);
  await rebuildRecords(con, names, `LEFT JOIN ${purged} p ON p.rid = r.${rid}`, [`coalesce(p.keys, []) AS ${key}`]);
  await con.run(`DROP TABLE ${purged}`);
}

/**
 * Replace or add records-table columns from a join: a new table swapped in, which DuckDB writes far
 * faster than an UPDATE of every row. `columns` are `expr AS name`; an existing name is replaced.
 */
export async function rebuildRecords(con: DuckDBConnection, names: TableNames, join: string, columns: string[]): Promise<void> {
  const existing = new Set(
    (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${names.records}`)).getRowObjectsJS().map((x) => quoteIdent(String(x.column_name))),
  );
  const named = columns.map((c) => ({ sql: c, name: c.slice(c.lastIndexOf(" AS ") + 4) }));
  const replace = named.filter((c) => existing.has(c.name)).map((c) => c.sql);
  const add = named.filter((c) => !existing.has(c.name)).map((c) => c.sql);
  const star = replace.length > 0 ? `r.* REPLACE (${replace.join(", ")})` : "r.*";
  const next = quoteIdent(`${unquote(names.records)}_next`);
  await con.run(`CREATE OR REPLACE TABLE ${next} AS SELECT ${[star, ...add].join(", ")} FROM ${names.records} r ${join}`);
  await con.run(`DROP TABLE ${names.records}; ALTER TABLE ${next} RENAME TO ${quoteIdent(unquote(names.records))}`);
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}

/** The distinct `correlatedWith` sets, as comparison indexes (one conditional-u sample each). */
export function givenSets(model: Model): number[][] {
  const seen = new Map<string, number[]>();
  for (const c of model.comparisons) {
    if (c.given.length === 0) continue;
    const set = [...c.given].sort((a, b) => a - b);
    seen.set(set.join(","), set);
  }
  return [...seen.values()];
}

/** Key of the pairs on which every comparison of `set` agrees exactly (their first level is `exact`). */
export function givenKeySql(model: Model, set: number[]): string {
  const columns = set.map((g) => quoteIdent(model.comparisons[g].column));
  return `CASE WHEN ${columns.map((c) => `${c} IS NULL`).join(" OR ")} THEN NULL ELSE hash(${columns.join(", ")}) END`;
}
