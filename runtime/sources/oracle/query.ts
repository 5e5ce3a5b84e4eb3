// How Oracle SQL spells a read: "quoted" identifiers, literals that compare as their column's type
// without any NLS setting deciding (numbers bare, times through TO_DATE / TO_TIMESTAMP[_TZ] with an
// explicit format, text as ASCII or UNISTR escapes so no character-set conversion can change it), look-back
// with NUMTODSINTERVAL, and composite cursors spelled out (`a >= x AND (a > x OR …)`, which the optimizer
// turns into an index range; Oracle's row comparison `(a, b) > (x, y)` it does not).

import type { SourceColumn } from "../source.ts";
import type { SqlSource } from "../sql/select.ts";
import { quoteOracleIdent, quoteOracleQualified } from "./identifiers.ts";
import { oracleSelectExpression } from "./types.ts";

const FLOAT_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TIME = /^(\d{4,})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?(?::\d\d)?)?( BC)?$/;

/** A string literal of exactly `value`: plain ASCII as '…', anything else through UNISTR's \XXXX escapes. */
export function oracleString(value: string, national = false): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  let escaped = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const code = value.charCodeAt(i);
    escaped += ch === "\\" ? "\\\\" : ch === "'" ? "''" : code >= 0x20 && code <= 0x7e ? ch : `\\${code.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  // UNISTR is national text; TO_CHAR turns it into the database character set for a VARCHAR2/CHAR column,
  // so the column is compared as itself (and its index used).
  return national ? `UNISTR('${escaped}')` : `TO_CHAR(UNISTR('${escaped}'))`;
}

/** A cursor or range value (source text, as the connector read it) as a literal of its column's type. */
export function oracleLiteral(value: string, column: SourceColumn): string {
  const source = column.sourceType.toUpperCase();
  if (/^(NUMBER|FLOAT)/.test(source) && FLOAT_NUMBER.test(value)) return value.replace(/^\+/, "");
  if (source === "BINARY_FLOAT" || source === "BINARY_DOUBLE") {
    const suffix = source === "BINARY_FLOAT" ? "f" : "d";
    const kind = source === "BINARY_FLOAT" ? "FLOAT" : "DOUBLE";
    if (FLOAT_NUMBER.test(value)) return `${value.replace(/^\+/, "")}${suffix}`;
    if (/^nan$/i.test(value)) return `BINARY_${kind}_NAN`;
    if (/^[+-]?inf(inity)?$/i.test(value)) return `${value.startsWith("-") ? "-" : ""}BINARY_${kind}_INFINITY`;
  }
  const time = TIME.exec(value);
  if (time && (source === "DATE" || source.startsWith("TIMESTAMP"))) return timeLiteral(time, source);
  return oracleString(value, /^N(VAR)?CHAR|^NCLOB/.test(source));
}

/** A date or timestamp literal through an explicit format (no NLS setting involved). */
function timeLiteral(m: RegExpExecArray, source: string): string {
  const [, year, month, day, hh = "00", mi = "00", ss = "00", fraction = "", zone, bc] = m;
  const text = `${year.padStart(4, "0")}-${month}-${day} ${hh}:${mi}:${ss}`;
  const era = bc ? " BC" : "";
  // A DATE compared with a DATE keeps its index; only a fraction (never in a DATE's own text) needs a TIMESTAMP.
  if (source === "DATE" && !/[1-9]/.test(fraction)) return `TO_DATE('${text}${era}', 'YYYY-MM-DD HH24:MI:SS${era}')`;
  const nanos = fraction.padEnd(9, "0");
  if (!/WITH (LOCAL )?TIME ZONE/.test(source)) return `TO_TIMESTAMP('${text}.${nanos}${era}', 'YYYY-MM-DD HH24:MI:SS.FF9${era}')`;
  return `TO_TIMESTAMP_TZ('${text}.${nanos} ${offset(zone)}${era}', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM${era}')`;
}

/** `+00`, `+0530`, `-05:30`, `Z` or none (UTC) → `±HH:MM`. */
function offset(zone: string | undefined): string {
  if (!zone || zone === "Z") return "+00:00";
  const digits = zone.slice(1).replace(/:/g, "");
  return `${zone[0]}${digits.slice(0, 2)}:${(digits.slice(2, 4) || "00")}`;
}

export const ORACLE_SQL: SqlSource = {
  ident: quoteOracleIdent,
  literal: oracleLiteral,
  minusSeconds: (literal, _column, seconds) => `(${literal} - NUMTODSINTERVAL(${seconds}, 'SECOND'))`,
  rowComparison: false,
  table: quoteOracleQualified,
  selectExpression: oracleSelectExpression,
};
