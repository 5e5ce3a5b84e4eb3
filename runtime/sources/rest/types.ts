// The REST type map: JSON values (parsed losslessly, so numbers keep their exact text) to DuckDB types,
// inferred from sampled records or declared per column. Each value reaches DuckDB as text and DuckDB
// casts it, so a 30-digit integer or a decimal with 20 places lands exactly. (Not HUGEINT: DuckDB
// writes it to Parquet as a DOUBLE.)
//
// | JSON values of a field (sampled)                    | DuckDB type   |
// |-----------------------------------------------------|---------------|
// | integers within ±2^63                               | BIGINT        |
// | integers of up to 38 digits (some beyond 2^63)      | DECIMAL(38,0) |
// | larger integers                                     | VARCHAR       |
// | numbers with a fraction or exponent (ints mixed in) | DOUBLE        |
// | true / false                                        | BOOLEAN       |
// | strings, all RFC 3339 date-times with an offset     | TIMESTAMPTZ   |
// | strings, all ISO date-times without an offset       | TIMESTAMP     |
// | strings, all ISO dates (YYYY-MM-DD)                  | DATE          |
// | other strings                                       | VARCHAR       |
// | objects or arrays (scalars mixed in)                | JSON          |
// | mixed scalar kinds (a number and a string)          | VARCHAR       |
// | null in every sampled record                        | VARCHAR       |

import { isLosslessNumber, type LosslessNumber, stringify } from "lossless-json";
import { SourceError } from "../../errors.ts";
import type { SourceColumn } from "../source.ts";

/** A JSON value as the lossless parser gives it. */
export type JsonValue = null | boolean | string | LosslessNumber | JsonValue[] | { [key: string]: JsonValue };

type Kind = "null" | "boolean" | "int64" | "int38" | "bigger" | "float" | "timestamptz" | "timestamp" | "date" | "string" | "json";

const TIMESTAMPTZ = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d:?\d\d)$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?$/;
const DATE = /^\d{4}-\d\d-\d\d$/;
const INTEGER = /^-?\d+$/;
const INT64 = 1n << 63n;
const DIGITS38 = 10n ** 38n;

function kindOf(value: JsonValue): Kind {
  if (value === null) return "null";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") {
    return TIMESTAMPTZ.test(value) ? "timestamptz" : TIMESTAMP.test(value) ? "timestamp" : DATE.test(value) ? "date" : "string";
  }
  if (isLosslessNumber(value)) {
    if (!INTEGER.test(value.value)) return "float";
    const n = BigInt(value.value);
    return n >= -INT64 && n < INT64 ? "int64" : n > -DIGITS38 && n < DIGITS38 ? "int38" : "bigger";
  }
  return "json";
}

const NUMERIC: Kind[] = ["int64", "int38", "bigger", "float"];

/** The DuckDB type for the set of kinds a field's sampled values had. */
function typeOfKinds(kinds: ReadonlySet<Kind>): string {
  const seen = [...kinds].filter((k) => k !== "null");
  if (seen.length === 0) return "VARCHAR";
  if (seen.includes("json")) return "JSON";
  if (seen.every((k) => NUMERIC.includes(k))) {
    if (seen.includes("float")) return "DOUBLE";
    return seen.includes("bigger") ? "VARCHAR" : seen.includes("int38") ? "DECIMAL(38,0)" : "BIGINT";
  }
  if (seen.length === 1) {
    return { boolean: "BOOLEAN", timestamptz: "TIMESTAMPTZ", timestamp: "TIMESTAMP", date: "DATE" }[seen[0] as string] ?? "VARCHAR";
  }
  return "VARCHAR";
}

/** Collects the fields of sampled records, in the order first seen, and the kinds of their values. */
export class SchemaSampler {
  private readonly fields = new Map<string, Set<Kind>>();
  private seen = 0;

  add(record: Readonly<Record<string, JsonValue>>): void {
    this.seen++;
    for (const [name, value] of Object.entries(record)) {
      let kinds = this.fields.get(name);
      if (!kinds) this.fields.set(name, (kinds = new Set()));
      kinds.add(kindOf(value));
    }
  }

  get records(): number {
    return this.seen;
  }

  /**
   * The columns: a declared type as declared; a column bronze already knows keeps its type while the
   * sampled values fit it (and stays when the sample lacks it: an absent field is not a dropped one),
   * so a sparse field does not flip between types from run to run; the rest as inferred.
   */
  columns(declared: Readonly<Record<string, string>>, known: readonly SourceColumn[] = []): SourceColumn[] {
    const knownType = new Map(known.map((c) => [c.name, c.duckType]));
    const names = [...new Set([...known.map((c) => c.name), ...this.fields.keys(), ...Object.keys(declared)])];
    return names.map((name) => {
      if (declared[name]) return { name, sourceType: "declared", duckType: declared[name], nullable: true };
      const kinds = this.fields.get(name) ?? new Set<Kind>();
      const kept = knownType.get(name);
      const duckType = kept !== undefined && [...kinds].every((k) => fits(k, kept)) ? kept : typeOfKinds(kinds);
      return { name, sourceType: `json ${duckType.toLowerCase()}`, duckType, nullable: true };
    });
  }
}

/** Whether a value of kind `kind` is stored exactly by a column of `duckType`. */
function fits(kind: Kind, duckType: string): boolean {
  if (kind === "null" || duckType === "VARCHAR" || duckType === "JSON") return true;
  switch (duckType) {
    case "BIGINT": return kind === "int64";
    case "DECIMAL(38,0)": return kind === "int64" || kind === "int38";
    case "DOUBLE": return NUMERIC.includes(kind) && kind !== "bigger";
    default: return typeOfKinds(new Set([kind])) === duckType;
  }
}

/** DuckDB types a column may be declared as: what a JSON value's text can be cast to and Parquet store exactly. */
const DECLARABLE = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|DATE|TIME|TIMESTAMP|TIMESTAMPTZ|VARCHAR|UUID|JSON|BLOB)$/;

/** A declared type, normalised (`decimal(12, 2)` → `DECIMAL(12,2)`), or a SourceError naming the column. */
export function declaredType(column: string, type: string, where: string): string {
  const normal = type.trim().toUpperCase().replace(/\s+/g, "").replace(/^TIMESTAMPWITHTIMEZONE$/, "TIMESTAMPTZ").replace(/^TEXT$|^STRING$/, "VARCHAR");
  if (!DECLARABLE.test(normal)) {
    throw new SourceError(`${where}: types: "${column}" is declared as ${type}, which is not a type a JSON value maps to (${DECLARABLE.source.replace(/[\^$()\\]/g, "").replace(/\|/g, ", ")})`);
  }
  return normal;
}

/**
 * The text DuckDB casts to the column's type: a number's literal, a string's characters, an object or
 * array as JSON (numbers in it exact). A JSON column holds a string as a JSON string. Null is null.
 */
export function valueText(value: JsonValue | undefined, duckType: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return duckType === "JSON" ? JSON.stringify(value) : value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (isLosslessNumber(value)) return value.value;
  return stringify(value) ?? null;
}

/** DuckDB's expression turning the text column `field` into the column's type. */
export function castFromText(field: string, duckType: string): string {
  return duckType === "VARCHAR" ? field : `CAST(${field} AS ${duckType})`;
}
