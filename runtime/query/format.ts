// A query result as text: an aligned table for a terminal, CSV, or JSON lines.

import type { DuckDBResultReader } from "@duckdb/node-api";

export type ResultFormat = "table" | "csv" | "json";

export function formatResult(result: DuckDBResultReader, format: ResultFormat, maxRows: number): string {
  const names = result.columnNames();
  const count = result.currentRowCount;
  if (format === "json") return result.getRowObjectsJson().slice(0, maxRows).map((r) => JSON.stringify(r)).join("\n") + (count ? "\n" : "");
  const rows = result.getRowsJson().slice(0, maxRows).map((row) => row.map(text));
  if (format === "csv") return [names, ...rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";
  if (names.length === 0) return "";
  const widths = names.map((n, i) => Math.min(60, Math.max(n.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join("  ").trimEnd();
  const more = count > maxRows ? `… ${count - maxRows} more rows\n` : "";
  return [line(names), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n") + `\n${more}(${count} row${count === 1 ? "" : "s"})\n`;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
