// compareSchemas: which source type changes bronze may follow (widening) and which must stop a table.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareSchemas } from "../../../runtime/sources/schema-compare.ts";
import type { SourceColumn } from "../../../runtime/sources/source.ts";
import { scalarDuckType } from "../../../runtime/sources/postgres/types.ts";

const col = (name: string, sourceType: string, duckType = scalarDuckType(sourceType.replace(/\[\]$/, "")) + (sourceType.endsWith("[]") ? "[]" : "")): SourceColumn =>
  ({ name, sourceType, duckType, nullable: true });

function verdict(from: string, to: string): "same" | "widened" | "incompatible" {
  const diff = compareSchemas([col("c", from)], [col("c", to)]);
  if (diff.widened.length) return "widened";
  if (diff.incompatible.length) return "incompatible";
  return "same";
}

describe("compareSchemas", () => {
  test("added and removed columns, matched by exact name", () => {
    const diff = compareSchemas([col("id", "bigint"), col("Old Name", "text")], [col("id", "bigint"), col("old name", "text"), col("new", "jsonb")]);
    assert.deepEqual(diff.added.map((c) => c.name), ["old name", "new"]);
    assert.deepEqual(diff.removed, ["Old Name"]);
    assert.deepEqual([diff.widened, diff.incompatible], [[], []]);
  });

  test("widening is compatible", () => {
    for (const [from, to] of [
      ["smallint", "integer"], ["integer", "bigint"], ["smallint", "bigint"], ["real", "double precision"],
      ["numeric(10,2)", "numeric(12,2)"], ["numeric(40,2)", "numeric(45,2)"], ["numeric(40,2)", "numeric"],
      ["character varying(10)", "character varying(20)"], ["character varying(10)", "text"], ["character varying(10)", "character varying"],
      ["timestamp(3) without time zone", "timestamp without time zone"], ["integer[]", "bigint[]"],
    ]) assert.equal(verdict(from, to), "widened", `${from} → ${to}`);
  });

  test("everything else is incompatible", () => {
    for (const [from, to] of [
      ["bigint", "integer"], ["integer", "text"], ["text", "integer"], ["numeric(10,2)", "numeric(12,3)"], ["numeric(12,2)", "numeric(10,2)"],
      ["numeric(12,2)", "numeric"], ["numeric(30,2)", "numeric(40,2)"], ["character varying(20)", "character varying(10)"], ["text", "character varying(10)"],
      ["double precision", "real"], ["integer", "double precision"], ["json", "jsonb"], ["timestamp without time zone", "timestamp with time zone"],
      ["date", "timestamp without time zone"], ["character(5)", "text"],
    ]) assert.equal(verdict(from, to), "incompatible", `${from} → ${to}`);
  });

  test("an unchanged type is neither", () => {
    assert.equal(verdict("numeric(12,2)", "numeric(12,2)"), "same");
    const diff = compareSchemas([col("a", "integer")], [col("a", "integer"), col("b", "text")]);
    assert.deepEqual(diff.incompatible, []);
  });

  test("changes name the column and both source types", () => {
    const diff = compareSchemas([col("amount", "numeric(12,2)"), col("n", "integer")], [col("amount", "text"), col("n", "bigint")]);
    assert.deepEqual(diff.incompatible, [{ column: "amount", from: "numeric(12,2)", to: "text" }]);
    assert.deepEqual(diff.widened, [{ column: "n", from: "integer", to: "bigint" }]);
  });
});
