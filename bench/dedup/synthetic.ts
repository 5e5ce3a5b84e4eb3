// A deterministic synthetic people set for the dedup speed test: entities with one or more records,
// copies carrying typos, first/surname swaps and missing values. Generated in SQL from hashes, so the
// same n gives the same rows on every run and machine (same DuckDB version).

import { readFile } from "node:fs/promises";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { parse as parseYaml } from "yaml";
import { parseDedupArgs } from "../../runtime/declare/dedup.ts";
import { runDedup } from "../../runtime/dedup/index.ts";
import { phaseSeconds, score, seconds, type Scores } from "./score.ts";

export interface SyntheticFigures extends Scores {
  records: number;
  seconds: { generate: number; train: number; predict: number; cluster: number; total: number };
  recordsPerSecond: number;
  peakRssMiB: number;
}

const SYLLABLES = ["ka", "ro", "mi", "na", "le", "to", "sa", "ri", "po", "de", "an", "el", "ur", "is", "ma",
  "ne", "lo", "ta", "vi", "ber", "son", "ton", "ley", "ham", "ford", "win", "dal", "mor", "gan", "ell"];

/** Create `synthetic` (person_id, first_name, surname, dob, city, email) and `synthetic_truth`. */
export async function generate(con: DuckDBConnection, records: number): Promise<void> {
  const syl = `[${SYLLABLES.map((s) => `'${s}'`).join(", ")}]`;
  // u(k): a uniform number in [0, 1) from the row's key and a salt k.
  const u = (key: string, k: number) => `(hash(${key}, ${k}) % 1000000) / 1000000.0`;
  const pick = (key: string, k: number, skew: number) =>
    `${syl}[1 + CAST(floor(30 * pow(${u(key, k)}, ${skew})) AS INTEGER)]`;
  // One in three entities has copies (1.5 records per entity on average).
  const entities = Math.ceil(records / 1.5);
  const typo = (expr: string, key: string, k: number) =>
    `CASE WHEN length(${expr}) < 2 THEN ${expr} ELSE
       substr(${expr}, 1, CAST(floor(${u(key, k)} * length(${expr})) AS INTEGER))
       || chr(97 + CAST(floor(${u(key, k + 1)} * 26) AS INTEGER))
       || substr(${expr}, 2 + CAST(floor(${u(key, k)} * length(${expr})) AS INTEGER)) END`;
  await con.run(`
    CREATE OR REPLACE TABLE synthetic_entities AS
    SELECT e,
      ${pick("e", 1, 1.6)} || ${pick("e", 2, 1)} AS first_name,
      ${pick("e", 3, 1.3)} || ${pick("e", 4, 1)} || ${pick("e", 5, 1)} AS surname,
      DATE '1930-01-01' + CAST(floor(${u("e", 6)} * 30000) AS INTEGER) AS dob,
      'city' || CAST(floor(300 * pow(${u("e", 7)}, 2)) AS INTEGER) AS city,
      CAST(floor(${u("e", 8)} * 100) AS INTEGER) AS email_n,
      1 + CAST(${u("e", 9)} < 0.3 AS INTEGER) + CAST(${u("e", 10)} < 0.12 AS INTEGER)
        + CAST(${u("e", 11)} < 0.08 AS INTEGER) AS copies
    FROM range(${entities}) t(e)`);
  await con.run(`
    CREATE OR REPLACE TABLE synthetic_all AS
    WITH c AS (
      SELECT e.*, copy, e * 8 + copy AS k FROM synthetic_entities e, unnest(range(copies)) t(copy)
    ), v AS (
      SELECT k, e, copy,
        CASE WHEN copy > 0 AND ${u("k", 20)} < 0.05 THEN surname ELSE first_name END AS f0,
        CASE WHEN copy > 0 AND ${u("k", 20)} < 0.05 THEN first_name ELSE surname END AS s0,
        dob, city, first_name || '.' || surname || email_n || '@mail.example' AS email0
      FROM c
    )
    SELECT k AS person_id, CAST(e AS VARCHAR) AS truth,
      CASE WHEN copy = 0 THEN f0 WHEN ${u("k", 21)} < 0.05 THEN NULL
           WHEN ${u("k", 22)} < 0.15 THEN ${typo("f0", "k", 23)} ELSE f0 END AS first_name,
      CASE WHEN copy = 0 THEN s0 WHEN ${u("k", 25)} < 0.05 THEN NULL
           WHEN ${u("k", 26)} < 0.15 THEN ${typo("s0", "k", 27)} ELSE s0 END AS surname,
      CASE WHEN copy = 0 THEN CAST(dob AS VARCHAR) WHEN ${u("k", 29)} < 0.1 THEN NULL
           WHEN ${u("k", 30)} < 0.1 THEN strftime(dob + CAST(1 + floor(${u("k", 31)} * 9) AS INTEGER), '%Y-%m-%d')
           ELSE CAST(dob AS VARCHAR) END AS dob,
      CASE WHEN ${u("k", 32)} < 0.2 THEN NULL WHEN copy > 0 AND ${u("k", 33)} < 0.05 THEN ${typo("city", "k", 34)}
           ELSE city END AS city,
      CASE WHEN ${u("k", 36)} < 0.3 THEN NULL WHEN copy > 0 AND ${u("k", 37)} < 0.1 THEN ${typo("email0", "k", 38)}
           ELSE email0 END AS email
    FROM v ORDER BY hash(k) LIMIT ${records}`);
  await con.run(`CREATE OR REPLACE TABLE synthetic AS SELECT * EXCLUDE (truth) FROM synthetic_all`);
  await con.run(`CREATE OR REPLACE TABLE synthetic_truth AS SELECT person_id AS id, truth FROM synthetic_all`);
  await con.run(`DROP TABLE synthetic_all; DROP TABLE synthetic_entities`);
}

export async function runSynthetic(records: number, threads: number): Promise<SyntheticFigures> {
  const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
  const con = await instance.connect();
  try {
    const t0 = performance.now();
    await generate(con, records);
    const generateMs = performance.now() - t0;
    const args = parseDedupArgs("synthetic_1m", parseYaml(await readFile("configs/dedup/synthetic_1m.yml", "utf8")));
    const { from: _from, ...spec } = args;
    const result = await runDedup(con, { input: "synthetic", spec, prefix: "syn", stage: "synthetic_1m", keepIntermediate: true });
    const t = result.metrics.timings;
    const totalMs = t.budget + t.prepare + t.train + t.block + t.predict + t.cluster + t.output;
    const scores = await score(con, "syn", "synthetic_truth", args.id, spec.threshold ?? 0.9, spec.clusterThreshold ?? 0.99);
    return {
      records: result.metrics.records,
      ...scores,
      seconds: {
        generate: seconds(generateMs),
        ...phaseSeconds(t),
        total: seconds(totalMs),
      },
      recordsPerSecond: result.metrics.records / (totalMs / 1000),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
