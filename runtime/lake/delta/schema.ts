// Table schemas as Delta records them (Spark's JSON schema in `metaData.schemaString`), and the mapping
// between DuckDB's types and Delta's, both ways. Where Delta has no type for a DuckDB one (UUID, TIME,
// INTERVAL, HUGEINT, unsigned integers, ENUM, …) the column is stored as the nearest Delta type that
// every engine reads (string, decimal, a wider integer), and the DuckDB type is kept in the field's
// metadata (`mallard.duckType`) so Mallard's own reader restores it exactly.

import { type DuckDBType, DuckDBTypeId } from "@duckdb/node-api";
import { quoteIdent } from "../../engine/sql.ts";

export type DeltaType = string | DeltaStruct | DeltaArray | DeltaMap;

export interface DeltaField {
  readonly name: string;
  readonly type: DeltaType;
  readonly nullable: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface DeltaStruct {
  readonly type: "struct";
  readonly fields: readonly DeltaField[];
}

export interface DeltaArray {
  readonly type: "array";
  readonly elementType: DeltaType;
  readonly containsNull: boolean;
}

export interface DeltaMap {
  readonly type: "map";
  readonly keyType: DeltaType;
  readonly valueType: DeltaType;
  readonly valueContainsNull: boolean;
}

/** Field metadata key holding the DuckDB type a column had before it was stored as a Delta type. */
export const DUCK_TYPE_KEY = "mallard.duckType";

export function parseSchema(schemaString: string): DeltaStruct {
  const schema = JSON.parse(schemaString) as DeltaStruct;
  if (schema?.type !== "struct" || !Array.isArray(schema.fields)) throw new Error("schemaString is not a struct");
  return schema;
}

/** How one DuckDB column is stored in a Delta table. */
export interface StoredColumn {
  readonly field: DeltaField;
  /** The SQL expression that turns the DuckDB value into what the Parquet file holds. */
  readonly select: string;
}

/**
 * The Delta field for a DuckDB column, and the expression writing it: the column itself when DuckDB's
 * Parquet type is already what Delta expects, a CAST otherwise.
 */
export function storeColumn(name: string, type: DuckDBType): StoredColumn {
  const mapped = mapType(type);
  const restore = duckTypeName(type);
  const field: DeltaField = {
    name,
    type: mapped.delta,
    nullable: true,
    metadata: mapped.cast ? { [DUCK_TYPE_KEY]: restore } : {},
  };
  const col = quoteIdent(name);
  return { field, select: mapped.cast ? `CAST(${col} AS ${duckTypeOf(mapped.delta)}) AS ${col}` : col };
}

/** DuckDB's SQL name of a type, keeping the JSON alias (a JSON column is a VARCHAR underneath). */
function duckTypeName(type: DuckDBType): string {
  return type.alias === "JSON" ? "JSON" : type.toString();
}

interface Mapped {
  readonly delta: DeltaType;
  /** The Parquet file must hold a different DuckDB type than the column has (somewhere in it). */
  readonly cast: boolean;
}

const DIRECT: Partial<Record<DuckDBTypeId, string>> = {
  [DuckDBTypeId.BOOLEAN]: "boolean",
  [DuckDBTypeId.TINYINT]: "byte",
  [DuckDBTypeId.SMALLINT]: "short",
  [DuckDBTypeId.INTEGER]: "integer",
  [DuckDBTypeId.BIGINT]: "long",
  [DuckDBTypeId.FLOAT]: "float",
  [DuckDBTypeId.DOUBLE]: "double",
  [DuckDBTypeId.DATE]: "date",
  [DuckDBTypeId.BLOB]: "binary",
  // DuckDB writes TIMESTAMP as isAdjustedToUTC=false micros (Delta's timestamp_ntz) and TIMESTAMPTZ as
  // isAdjustedToUTC=true micros (Delta's timestamp, UTC).
  [DuckDBTypeId.TIMESTAMP]: "timestamp_ntz",
  [DuckDBTypeId.TIMESTAMP_TZ]: "timestamp",
};

/** DuckDB types stored as another type, by the Delta type they become. */
const CONVERTED: Partial<Record<DuckDBTypeId, string>> = {
  [DuckDBTypeId.UTINYINT]: "short",
  [DuckDBTypeId.USMALLINT]: "integer",
  [DuckDBTypeId.UINTEGER]: "long",
  [DuckDBTypeId.UBIGINT]: "decimal(20,0)",
  // DuckDB writes HUGEINT to Parquet as a DOUBLE, losing digits: a decimal keeps them all.
  [DuckDBTypeId.HUGEINT]: "decimal(38,0)",
  [DuckDBTypeId.UHUGEINT]: "decimal(38,0)",
  // Delta timestamps are microseconds.
  [DuckDBTypeId.TIMESTAMP_S]: "timestamp_ntz",
  [DuckDBTypeId.TIMESTAMP_MS]: "timestamp_ntz",
  [DuckDBTypeId.TIMESTAMP_NS]: "timestamp_ntz",
};

function mapType(type: DuckDBType): Mapped {
  if (type.typeId === DuckDBTypeId.VARCHAR) return { delta: "string", cast: type.alias === "JSON" };
  const direct = DIRECT[type.typeId];
  if (direct) return { delta: direct, cast: false };
  const converted = CONVERTED[type.typeId];
  if (converted) return { delta: converted, cast: true };
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL:
      return { delta: `decimal(${type.width},${type.scale})`, cast: false };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = mapType(type.valueType);
      // A fixed-size ARRAY is cast to a LIST, the shape every engine reads.
      return { delta: { type: "array", elementType: element.delta, containsNull: true }, cast: element.cast || type.typeId === DuckDBTypeId.ARRAY };
    }
    case DuckDBTypeId.STRUCT: {
      const children = type.entryTypes.map(mapType);
      return {
        delta: { type: "struct", fields: type.entryNames.map((name, i) => ({ name, type: children[i].delta, nullable: true, metadata: {} })) },
        cast: children.some((c) => c.cast),
      };
    }
    case DuckDBTypeId.MAP: {
      const key = mapType(type.keyType);
      const value = mapType(type.valueType);
      return { delta: { type: "map", keyType: key.delta, valueType: value.delta, valueContainsNull: true }, cast: key.cast || value.cast };
    }
    default:
      // UUID, TIME, TIME WITH TIME ZONE, INTERVAL, ENUM, BIT, BIGNUM, UNION, …: no Delta type holds them
      // faithfully, but their text does (and DuckDB casts the text back).
      return { delta: "string", cast: true };
  }
}

/** The DuckDB type a Delta type reads as. */
export function duckTypeOf(type: DeltaType): string {
  if (typeof type === "string") {
    const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
    if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
    const primitive = PRIMITIVES[type];
    if (!primitive) throw new Error(`Delta type "${type}" is not supported`);
    return primitive;
  }
  if (type.type === "array") return `${duckTypeOf(type.elementType)}[]`;
  if (type.type === "map") return `MAP(${duckTypeOf(type.keyType)}, ${duckTypeOf(type.valueType)})`;
  if (type.type === "struct") return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckTypeOf(f.type)}`).join(", ")})`;
  throw new Error(`Delta type ${JSON.stringify(type)} is not supported`);
}

const PRIMITIVES: Readonly<Record<string, string>> = {
  string: "VARCHAR",
  long: "BIGINT",
  integer: "INTEGER",
  short: "SMALLINT",
  byte: "TINYINT",
  float: "FLOAT",
  double: "DOUBLE",
  boolean: "BOOLEAN",
  binary: "BLOB",
  date: "DATE",
  timestamp: "TIMESTAMPTZ",
  timestamp_ntz: "TIMESTAMP",
  decimal: "DECIMAL(10,0)",
  // Never in a data file: always null.
  void: "INTEGER",
};

/** The DuckDB type Mallard's reader gives a column: the one it was written from when that is recorded. */
export function readTypeOf(field: DeltaField): string {
  const recorded = field.metadata[DUCK_TYPE_KEY];
  return typeof recorded === "string" ? recorded : duckTypeOf(field.type);
}

/** True when a type (or any type inside it) is `timestamp_ntz`, which needs the `timestampNtz` feature. */
export function usesTimestampNtz(type: DeltaType): boolean {
  if (typeof type === "string") return type === "timestamp_ntz";
  if (type.type === "array") return usesTimestampNtz(type.elementType);
  if (type.type === "map") return usesTimestampNtz(type.keyType) || usesTimestampNtz(type.valueType);
  return type.fields.some((f) => usesTimestampNtz(f.type));
}
