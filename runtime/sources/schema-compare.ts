// How a source table's columns changed since the last load, for bronze schema evolution. A change is
// "widening" when every value bronze already holds is still representable and readers lose nothing by
// reading old and new batches together; anything else stops the table (the stage decides how).

import type { SourceColumn } from "./source.ts";

export interface TypeChange {
  readonly column: string;
  /** Source type before → after, as the source spells it. */
  readonly from: string;
  readonly to: string;
}

export interface SchemaComparison {
  /** Columns new in the source, in source order. */
  readonly added: SourceColumn[];
  /** Names of columns the source no longer has. */
  readonly removed: string[];
  /** Type changes that lose nothing: smallint → integer → bigint, real → double, numeric precision up at the same scale, a longer or unbounded varchar. */
  readonly widened: TypeChange[];
  /** Every other type change. */
  readonly incompatible: TypeChange[];
}

/** Compare two versions of a table's columns (matched by exact name). Pure. */
export function compareSchemas(previous: readonly SourceColumn[], current: readonly SourceColumn[]): SchemaComparison {
  const before = new Map(previous.map((c) => [c.name, c]));
  const now = new Set(current.map((c) => c.name));
  const result: SchemaComparison = { added: [], removed: [], widened: [], incompatible: [] };
  for (const column of current) {
    const old = before.get(column.name);
    if (!old) {
      result.added.push(column);
      continue;
    }
    const verdict = change(old, column);
    if (verdict === "same") continue;
    const entry = { column: column.name, from: old.sourceType, to: column.sourceType };
    (verdict === "widened" ? result.widened : result.incompatible).push(entry);
  }
  result.removed.push(...previous.filter((c) => !now.has(c.name)).map((c) => c.name));
  return result;
}

type Verdict = "same" | "widened" | "incompatible";

function change(old: SourceColumn, now: SourceColumn): Verdict {
  if (old.duckType === now.duckType && old.sourceType === now.sourceType) return "same";
  if (old.duckType !== now.duckType) return widensStorage(old.duckType, now.duckType) ? "widened" : "incompatible";
  return widensDeclaration(old.sourceType, now.sourceType) ? "widened" : "incompatible";
}

const LADDERS: readonly (readonly string[])[] = [
  ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"],
  ["FLOAT", "DOUBLE"],
];

/** A DuckDB storage type that holds every value of the old one exactly. */
function widensStorage(from: string, to: string): boolean {
  if (from.endsWith("[]") && to.endsWith("[]")) return widensStorage(from.slice(0, -2), to.slice(0, -2));
  for (const ladder of LADDERS) {
    const a = ladder.indexOf(from);
    const b = ladder.indexOf(to);
    if (a !== -1 && b !== -1) return b > a;
  }
  const decimals = [from, to].map((t) => /^DECIMAL\((\d+),(\d+)\)$/.exec(t));
  if (decimals[0] && decimals[1]) {
    return decimals[0][2] === decimals[1][2] && Number(decimals[1][1]) > Number(decimals[0][1]);
  }
  return false;
}

/**
 * Same storage, different declaration: a longer or unbounded `varchar`, `varchar` → `text`, a higher
 * precision with the same scale (`numeric(40,2)` → `numeric(45,2)` held as text, `timestamp(3)` → `timestamp`).
 */
function widensDeclaration(from: string, to: string): boolean {
  if (from.endsWith("[]") && to.endsWith("[]")) return widensDeclaration(from.slice(0, -2), to.slice(0, -2));
  if (/^(character varying|varchar)\b/.test(from) && to === "text") return true;
  const a = parseModifiers(from);
  const b = parseModifiers(to);
  if (!a || !b || a.base !== b.base) return false;
  if (b.args.length === 0) return a.args.length > 0; // unbounded holds any length or precision
  if (a.args.length === 0 || a.args.length !== b.args.length) return false;
  // First modifier (length or precision) may grow; the rest (scale) must stay.
  return b.args[0] >= a.args[0] && b.args.slice(1).every((v, i) => v === a.args[i + 1]);
}

/** `numeric(12,2)` → numeric [12, 2]; `timestamp(3) with time zone` → "timestamp with time zone" [3]. */
function parseModifiers(type: string): { base: string; args: number[] } | undefined {
  const m = /^([^(]*)(?:\(([\d, -]+)\))?(.*)$/.exec(type);
  if (!m) return undefined;
  const args = m[2] ? m[2].split(",").map((v) => Number(v.trim())) : [];
  if (args.some((v) => !Number.isFinite(v))) return undefined;
  return { base: `${m[1]}${m[3]}`.replace(/\s+/g, " ").trim(), args };
}
