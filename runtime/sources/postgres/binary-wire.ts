// How each column travels through `COPY … (FORMAT binary)`: the PostgreSQL expression the COPY selects,
// how its bytes are decoded (binary-copy.ts), the DuckDB type they are appended as, and the DuckDB
// expression that gives the bronze value. Numbers, booleans, dates, times, timestamps, uuids and bytea
// are decoded from PostgreSQL's binary form straight into DuckDB's (no text on either side); text types
// travel as their UTF-8 bytes; everything else is PostgreSQL's own text, converted by DuckDB exactly as in
// the CSV path (types.ts), so both paths store the same values.

import {
  BIGINT, BLOB, BOOLEAN, DATE, DECIMAL, DOUBLE, type DuckDBType, FLOAT, INTEGER, SMALLINT, TIME, TIMESTAMP, TIMESTAMPTZ, UUID, VARCHAR,
} from "@duckdb/node-api";
import { quoteIdent } from "../../engine/sql.ts";
import type { SourceColumn } from "../source.ts";
import { duckConversion, isSelectedAsIs, pgSelectExpression } from "./types.ts";

/** How a field's bytes are decoded. */
export const enum WireKind {
  Int2,
  Int4,
  Int8,
  Float4,
  Float8,
  Bool,
  Date,
  Timestamp,
  Time,
  Uuid,
  Decimal,
  /** UTF-8 text, appended as VARCHAR. */
  Text,
  /** Raw bytes (bytea), appended as BLOB. */
  Bytes,
}

export interface ColumnWire {
  readonly kind: WireKind;
  /** What the COPY selects (aliased with the column's name). */
  readonly pgExpression: string;
  /** The DuckDB type the decoded values are appended as. */
  readonly stageType: DuckDBType;
  /** DuckDB expression over the appended column (`c0`, …) giving the bronze value. */
  readonly conversion: (name: string) => string;
  /** Bytes per value in the DuckDB vector (0 for strings). */
  readonly width: number;
  /** DECIMAL precision and scale. */
  readonly precision?: number;
  readonly scale?: number;
}

const NATIVE: Readonly<Record<string, readonly [WireKind, string, DuckDBType, number]>> = {
  SMALLINT: [WireKind.Int2, "int2", SMALLINT, 2],
  INTEGER: [WireKind.Int4, "int4", INTEGER, 4],
  BIGINT: [WireKind.Int8, "int8", BIGINT, 8],
  FLOAT: [WireKind.Float4, "float4", FLOAT, 4],
  DOUBLE: [WireKind.Float8, "float8", DOUBLE, 8],
  BOOLEAN: [WireKind.Bool, "boolean", BOOLEAN, 1],
  DATE: [WireKind.Date, "date", DATE, 4],
  TIMESTAMP: [WireKind.Timestamp, "timestamp", TIMESTAMP, 8],
  TIMESTAMPTZ: [WireKind.Timestamp, "timestamptz", TIMESTAMPTZ, 8],
  TIME: [WireKind.Time, "time", TIME, 8],
  UUID: [WireKind.Uuid, "uuid", UUID, 16],
};

/** PostgreSQL text types whose binary form is their text: selected as themselves (char(n) keeps its padding). */
const TEXT_TYPES: readonly [RegExp, string][] = [
  [/^text$/, "text"],
  [/^character varying(\(\d+\))?$/, "varchar"],
  [/^character(\(\d+\))?$/, "bpchar"],
  [/^name$/, "name"],
];

/** Bytes of a DECIMAL(p, ·) value in DuckDB. */
function decimalWidth(precision: number): number {
  return precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16;
}

/**
 * The wire of one column. The COPY casts every natively decoded column to the exact type its decoder
 * reads (a no-op when the column already has it, and a guarantee when a stored schema is older than the
 * table); anything else is PostgreSQL's output text, as the CSV path reads it.
 */
export function columnWire(column: SourceColumn): ColumnWire {
  const col = quoteIdent(column.name);
  const alias = ` AS ${col}`;
  const asText = (expression: string): ColumnWire => ({
    kind: WireKind.Text,
    pgExpression: expression + alias,
    stageType: VARCHAR,
    conversion: (name) => duckConversion(name, column.duckType, column),
    width: 0,
  });
  // Arrays (JSON of the elements' text), intervals and columns read as text: the CSV path's expression.
  if (!isSelectedAsIs(column)) return asText(pgSelectExpression(column));
  const duckType = column.duckType;
  const native = NATIVE[duckType];
  if (native) {
    const [kind, pgType, stageType, width] = native;
    return { kind, pgExpression: `CAST(${col} AS ${pgType})${alias}`, stageType, conversion: (name) => name, width };
  }
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    return {
      kind: WireKind.Decimal,
      pgExpression: `CAST(${col} AS numeric)${alias}`,
      stageType: DECIMAL(precision, scale),
      conversion: (name) => name,
      width: decimalWidth(precision),
      precision,
      scale,
    };
  }
  if (duckType === "BLOB") {
    return { kind: WireKind.Bytes, pgExpression: `CAST(${col} AS bytea)${alias}`, stageType: BLOB, conversion: (name) => name, width: 0 };
  }
  if (duckType === "VARCHAR") {
    const text = TEXT_TYPES.find(([pattern]) => pattern.test(column.sourceType));
    if (text) return { kind: WireKind.Text, pgExpression: `CAST(${col} AS ${text[1]})${alias}`, stageType: VARCHAR, conversion: (name) => name, width: 0 };
  }
  // json's text as stored, jsonb's normalised text: the output text, which a cast to text gives for both.
  if (duckType === "JSON") return asText(`CAST(${col} AS text)`);
  // Enums, domains over text, inet, money, unconstrained numeric, …: the type's output text.
  return asText(outputText(col));
}

/** A value's text as its type's output function writes it (what CSV would carry); NULL stays NULL. */
export function outputText(col: string): string {
  // format('%s') calls the output function (a ::text cast does not always: inet, char(n)); it turns NULL into ''.
  return `CASE WHEN ${col} IS NULL THEN NULL ELSE format('%s', ${col}) END`;
}
