// A seeded synthetic people set with skewed name frequencies, the shape that breaks name-only blocking:
// first names and surnames drawn from Zipf-like tables (the top first name about 3% of people, the top
// surname about 2%), e-mail local parts built from the name (namesakes' addresses look alike), twins
// (same surname, birth date and city) and parents with a junior of the same name in the same city.
// A third of the people have more records, with typos, missing values, moves and new addresses.
// Generated in SQL from hashes: the same (records, seed) gives the same rows on every run.

import type { DuckDBConnection } from "@duckdb/node-api";

const SYLLABLES = ["ma", "ri", "a", "jo", "se", "lu", "is", "an", "to", "ni", "o", "car", "los", "el", "e", "na",
  "gar", "ci", "ro", "dri", "guez", "mar", "tin", "ez", "lo", "pe", "her", "nan", "do", "son", "ber", "ley"];

/** Columns of `people`: person_id, first_name, surname, dob, city, email, national_id; truth in `people_truth`. */
export async function generatePeople(con: DuckDBConnection, records: number, seed = 7): Promise<void> {
  const syl = `[${SYLLABLES.map((s) => `'${s}'`).join(", ")}]`;
  const n = SYLLABLES.length;
  // u(key, k): uniform in [0, 1) from a key and a salt, seeded.
  const u = (key: string, k: number) => `((hash(${key}, ${k}, ${seed}) % 1000003) / 1000003.0)`;
  // A name per rank: mixed-radix syllables, so ranks give distinct spellings (nearly always).
  const nameOf = (rank: string, parts: number) =>
    Array.from({ length: parts }, (_, p) => `${syl}[1 + (((${rank}) // ${n ** p}) % ${n})]`).join(" || ");
  // Zipf-like table: rank k weighs (k + shift)^-s. A uniform number picks a rank through 2^16 buckets of
  // the cumulative shares (an equi-join; the bucket's first rank, close enough for a benchmark).
  const table = async (name: string, size: number, shift: number, s: number, parts: number) => {
    await con.run(`
      CREATE OR REPLACE TEMP TABLE ${name}_ranks AS
      WITH w AS (SELECT k AS rank, pow(k + ${shift}, -${s}) AS w FROM range(1, ${size + 1}) t(k))
      SELECT rank, ${nameOf("rank + 7", parts)} AS value, (sum(w) OVER (ORDER BY rank) - w) / sum(w) OVER () AS lo FROM w`);
    await con.run(`
      CREATE OR REPLACE TEMP TABLE ${name} AS
      SELECT b.bucket, r.rank, r.value FROM (SELECT range AS bucket, range / 65536.0 AS at FROM range(65536)) b
      ASOF JOIN ${name}_ranks r ON b.at >= r.lo`);
  };
  await table("gen_first", 3000, 3, 1.15, 2);
  await table("gen_surname", 30000, 3, 1.1, 3);
  await table("gen_city", 400, 2, 1.1, 2);
  const persons = Math.ceil(records / 1.47);
  // Persons: 8% are the junior of an earlier person (same name and city, born 20-40 years later), 3%
  // the twin of one (same surname, birth date and city, another first name).
  await con.run(`
    CREATE OR REPLACE TEMP TABLE gen_base AS
    SELECT p, ${u("p", 1)} AS uf, ${u("p", 2)} AS us, ${u("p", 3)} AS uc,
           DATE '1935-01-01' + CAST(floor(${u("p", 4)} * 25000) AS INTEGER) AS dob,
           ${u("p", 5)} AS kind, CAST(floor(${u("p", 6)} * p) AS BIGINT) AS relative,
           CASE WHEN ${u("p", 7)} < 0.5 THEN '' ELSE CAST(1 + CAST(floor(${u("p", 8)} * 98) AS INTEGER) AS VARCHAR) END AS email_n,
           ['mail.example', 'post.example', 'web.example', 'net.example'][1 + CAST(floor(pow(${u("p", 9)}, 2) * 4) AS INTEGER)] AS domain,
           CASE WHEN ${u("p", 10)} < 0.4 THEN lpad(CAST(CAST(floor(${u("p", 11)} * 1e9) AS BIGINT) AS VARCHAR), 9, '0') END AS national_id
    FROM range(${persons}) t(p)`);
  await con.run(`
    CREATE OR REPLACE TEMP TABLE gen_drawn AS
    SELECT b.*, f.value AS first0, s.value AS surname0, c.value AS city0
    FROM gen_base b
    JOIN gen_first f ON f.bucket = CAST(floor(b.uf * 65536) AS INTEGER)
    JOIN gen_surname s ON s.bucket = CAST(floor(b.us * 65536) AS INTEGER)
    JOIN gen_city c ON c.bucket = CAST(floor(b.uc * 65536) AS INTEGER)`);
  await con.run(`
    CREATE OR REPLACE TEMP TABLE gen_persons AS
    SELECT d.p,
      CASE WHEN d.kind < 0.08 AND d.p > 0 THEN r.first0 ELSE d.first0 END AS first_name,
      CASE WHEN d.kind < 0.11 AND d.p > 0 THEN r.surname0 ELSE d.surname0 END AS surname,
      CASE WHEN d.kind < 0.08 AND d.p > 0 THEN r.dob + CAST(7300 + floor(${u("d.p", 12)} * 7300) AS INTEGER)
           WHEN d.kind < 0.11 AND d.p > 0 THEN r.dob ELSE d.dob END AS dob,
      CASE WHEN d.kind < 0.11 AND d.p > 0 THEN r.city0 ELSE d.city0 END AS city,
      d.email_n, d.domain, d.national_id
    FROM gen_drawn d LEFT JOIN gen_drawn r ON r.p = d.relative`);
  // Records: 1 + extra copies (one person in three has more than one).
  const typo = (expr: string, key: string, k: number) => `CASE WHEN length(${expr}) < 3 THEN ${expr} ELSE
       substr(${expr}, 1, CAST(floor(${u(key, k)} * length(${expr})) AS INTEGER))
       || chr(97 + CAST(floor(${u(key, k + 1)} * 26) AS INTEGER))
       || substr(${expr}, 2 + CAST(floor(${u(key, k)} * length(${expr})) AS INTEGER)) END`;
  await con.run(`
    CREATE OR REPLACE TEMP TABLE gen_records AS
    WITH c0 AS (
      SELECT p.*, copy, p.p * 8 + copy AS k
      FROM gen_persons p, unnest(range(1 + CAST(${u("p.p", 20)} < 0.3 AS INTEGER) + CAST(${u("p.p", 21)} < 0.12 AS INTEGER)
                                       + CAST(${u("p.p", 22)} < 0.05 AS INTEGER))) t(copy)
    ), c AS (
      SELECT c0.*, m.value AS moved_to FROM c0 LEFT JOIN gen_city_ranks m ON m.rank = 1 + CAST(floor(${u("c0.k", 44)} * 400) AS INTEGER)
    )
    SELECT k AS person_id, CAST(p AS VARCHAR) AS truth,
      CASE WHEN copy = 0 THEN first_name WHEN ${u("k", 30)} < 0.03 THEN NULL
           WHEN ${u("k", 31)} < 0.10 THEN ${typo("first_name", "k", 32)} ELSE first_name END AS first_name,
      CASE WHEN copy = 0 THEN surname WHEN ${u("k", 34)} < 0.03 THEN NULL
           WHEN ${u("k", 35)} < 0.08 THEN ${typo("surname", "k", 36)} ELSE surname END AS surname,
      CASE WHEN copy > 0 AND ${u("k", 38)} < 0.08 THEN NULL
           WHEN copy > 0 AND ${u("k", 39)} < 0.08 THEN ${typo("strftime(dob, '%Y-%m-%d')", "k", 40)}
           ELSE strftime(dob, '%Y-%m-%d') END AS dob,
      CASE WHEN ${u("k", 42)} < 0.15 THEN NULL
           WHEN copy > 0 AND ${u("k", 43)} < 0.05 THEN moved_to
           ELSE city END AS city,
      CASE WHEN ${u("k", 45)} < 0.3 THEN NULL
           WHEN copy > 0 AND ${u("k", 46)} < 0.15 THEN first_name || '.' || surname || CAST(CAST(floor(${u("k", 47)} * 99) AS INTEGER) AS VARCHAR) || '@' || domain
           ELSE first_name || '.' || surname || email_n || '@' || domain END AS email,
      CASE WHEN national_id IS NULL OR ${u("k", 48)} < 0.4 THEN NULL
           WHEN copy > 0 AND ${u("k", 49)} < 0.02 THEN ${typo("national_id", "k", 50)} ELSE national_id END AS national_id
    FROM c`);
  await con.run(`CREATE OR REPLACE TABLE people AS SELECT * EXCLUDE (truth) FROM gen_records ORDER BY hash(person_id, ${seed}) LIMIT ${records}`);
  await con.run(`CREATE OR REPLACE TABLE people_truth AS SELECT person_id AS id, truth FROM gen_records WHERE person_id IN (SELECT person_id FROM people)`);
  for (const t of ["gen_first", "gen_surname", "gen_city", "gen_first_ranks", "gen_surname_ranks", "gen_city_ranks", "gen_base", "gen_drawn", "gen_persons", "gen_records"]) await con.run(`DROP TABLE ${t}`);
}
