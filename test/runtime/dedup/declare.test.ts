// Validation of the YAML form of silver.dedup: one clear message per problem, naming stage and field.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { parseDedupArgs } from "../../../runtime/declare/dedup.ts";
import { ConfigError } from "../../../runtime/errors.ts";

const valid = `
from: customers
id: customer_id
blocking:
  - [surname, dob]
  - "substr(first_name, 1, 3)"
compare:
  surname:
    termFrequency: true
    levels: [{ kind: exact }, { kind: jaroWinkler, threshold: 0.9 }]
  dob:
    levels: [{ kind: exact }, { kind: dateDifference, max: 1, unit: year }]
survivor: { kind: mostRecent, column: updated_at }
`;

function problems(yaml: string, columns?: string[]): string[] {
  try {
    parseDedupArgs("people", parseYaml(yaml), columns);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  return [];
}

test("a valid declaration parses to typed args", () => {
  const args = parseDedupArgs("people", parseYaml(valid), ["customer_id", "first_name", "surname", "dob", "updated_at"]);
  assert.equal(args.from, "customers");
  assert.deepEqual(args.blocking[0], ["surname", "dob"]);
  assert.equal(args.compare.dob.levels[1].kind, "dateDifference");
});

test("a comparison with no levels", () => {
  assert.deepEqual(problems(valid.replace("levels: [{ kind: exact }, { kind: jaroWinkler, threshold: 0.9 }]", "levels: []")), [
    'stage "people": compare.surname: no levels',
  ]);
});

test("an unknown level kind", () => {
  const [message] = problems(valid.replace("kind: jaroWinkler, threshold: 0.9", "kind: soundex"));
  assert.match(message, /^stage "people": compare\.surname\.levels\[1\]\.kind: /);
});

test("a similarity threshold out of range", () => {
  const [message] = problems(valid.replace("threshold: 0.9", "threshold: 1.5"));
  assert.match(message, /^stage "people": compare\.surname\.levels\[1\]\.threshold: .*1/);
});

test("an unknown option is named", () => {
  const [message] = problems(`${valid}\nthreshhold: 0.8\n`);
  assert.match(message, /^stage "people": .*threshhold/);
});

test("a missing required field", () => {
  const [message] = problems(valid.replace("id: customer_id\n", ""));
  assert.match(message, /^stage "people": id: /);
});

test("an unquoted YAML expression with commas gets a hint", () => {
  const [message] = problems(valid.replace('"substr(first_name, 1, 3)"', "[substr(first_name, 1, 3)]"));
  assert.match(message, /^stage "people": blocking\[1\]: .*quote expressions with commas/);
});

test("no blocking rules", () => {
  assert.deepEqual(problems(valid.replace(/blocking:\n(  - .*\n)+/, "blocking: []\n")), [
    'stage "people": blocking: no blocking rules (every pair would be compared)',
  ]);
});

test("an unknown column, given the input's columns", () => {
  assert.deepEqual(problems(valid, ["customer_id", "first_name", "surname", "updated_at"]), [
    'stage "people": blocking[0]: column "dob" not found in the input (columns: customer_id, first_name, surname, updated_at)',
    'stage "people": compare.dob.column: column "dob" not found in the input (columns: customer_id, first_name, surname, updated_at)',
  ]);
});

test("term frequencies need an exact level", () => {
  assert.deepEqual(problems(valid.replace("levels: [{ kind: exact }, { kind: jaroWinkler", "levels: [{ kind: jaroWinkler")), [
    'stage "people": compare.surname.termFrequency: needs an exact level to adjust',
  ]);
});

test("an unknown survivor kind", () => {
  const [message] = problems(valid.replace("kind: mostRecent", "kind: newest"));
  assert.match(message, /^stage "people": survivor\.kind: /);
});
