// Records → CSV rows for the shared chunk pipeline (csv/chunks.ts): each column's value as text (DuckDB
// casts it), only the records the slice keeps (incremental.ts decides, exactly), a tombstone marker
// when the endpoint declares one, and the checkpoint each chunk reaches.
//
// A chunk's end is written only once the next kept record exists (or the pages have ended), so the
// last chunk is always known to be last: when pages are not in cursor order, it alone carries the
// checkpoint (the greatest cursor read), and a killed load starts again from the previous one.

import type { EndpointResource, JsonScalar } from "../../declare/rest.ts";
import { SourceError } from "../../errors.ts";
import { compareCursors, cursorPosition, inSlice, type CursorSlice } from "../incremental.ts";
import type { CsvBlock } from "../csv/chunks.ts";
import type { CursorPosition, SourceColumn } from "../source.ts";
import type { JsonRecord, Page } from "./pages.ts";
import { type JsonValue, valueText } from "./types.ts";
import { isLosslessNumber } from "lossless-json";

export interface RowOptions {
  readonly columns: readonly SourceColumn[];
  readonly slice?: CursorSlice;
  readonly resource: EndpointResource;
  /** Write the tombstone marker as a last column. */
  readonly marker: boolean;
  /** Fail on a field the schema does not have (a discovered schema: the field came after the sample). */
  readonly strictFields: boolean;
  readonly chunkRows: number;
  /** For messages. */
  readonly where: string;
}

/**
 * CSV blocks of the pages' kept records, cut every `chunkRows` rows. `checkpoints` receives, per chunk
 * in order, the position it reaches (undefined when that chunk is not a safe place to resume).
 */
export async function* recordBlocks(pages: AsyncIterable<Page>, options: RowOptions, checkpoints: (CursorPosition | undefined)[]): AsyncGenerator<CsvBlock> {
  const { columns, slice, resource, chunkRows } = options;
  const known = new Set(columns.map((c) => c.name));
  const cursorNames = slice?.columns.map((c) => c.name) ?? [];
  const ordered = resource.ordered === true;
  let inChunk = 0;
  let greatest: string[] | undefined;
  let previous: string[] | undefined;
  let pending: string[] = [];
  let pendingRows = 0;
  const flush = (chunkEnd: boolean): CsvBlock => {
    const block = { data: Buffer.from(pending.join(""), "utf8"), rows: pendingRows, chunkEnd };
    pending = [];
    pendingRows = 0;
    return block;
  };
  for await (const page of pages) {
    for (const record of page.records) {
      if (options.strictFields) {
        for (const field of Object.keys(record)) {
          if (!known.has(field)) {
            throw new SourceError(
              `${options.where}: GET ${resource.path}: field "${field}" is not in the schema (it first appears after the sampled records); ` +
                `declare its type under types (e.g. types: { ${JSON.stringify(field)}: "VARCHAR" }) or sample more records`,
            );
          }
        }
      }
      let cursor: string[] | undefined;
      if (slice) {
        const values = cursorNames.map((name) => valueText(record[name], "VARCHAR"));
        if (!inSlice(slice, values)) continue;
        cursor = values as string[];
        if (ordered && previous && compareCursors(slice, cursor, previous) < 0) {
          throw new SourceError(
            `${options.where}: GET ${resource.path}: records are not in cursor order (${cursorNames.join(", ")}) although the endpoint is declared ordered: ` +
              `(${cursor.join(", ")}) came after (${previous.join(", ")})`,
          );
        }
      }
      if (inChunk === chunkRows) {
        // The chunk before this record is complete and is not the last one; in cursor order, it reaches its last record.
        // (The checkpoint goes first: the chunk is handed on as soon as its end is written.)
        checkpoints.push(slice && ordered && previous ? cursorPosition(slice, previous) : undefined);
        yield flush(true);
        inChunk = 0;
      }
      if (slice && cursor) {
        previous = cursor;
        if (!greatest || compareCursors(slice, cursor, greatest) > 0) greatest = cursor;
      }
      pending.push(csvRow(record, columns, options.marker ? resource.tombstone : undefined));
      pendingRows++;
      inChunk++;
    }
    if (pendingRows > 0) yield flush(false);
  }
  if (inChunk > 0) {
    checkpoints.push(slice && greatest ? cursorPosition(slice, greatest) : undefined);
    yield flush(true);
  }
}

/** One CSV line: every value quoted (an unquoted empty field is NULL), quotes doubled. */
function csvRow(record: JsonRecord, columns: readonly SourceColumn[], tombstone: EndpointResource["tombstone"]): string {
  const fields = columns.map((c) => quote(c.asText ? valueText(record[c.name], "VARCHAR") : valueText(record[c.name], c.duckType)));
  if (tombstone) fields.push(equalsScalar(record[tombstone.field], tombstone.equals) ? "true" : "false");
  return `${fields.join(",")}\n`;
}

function quote(text: string | null): string {
  return text === null ? "" : `"${text.replaceAll('"', '""')}"`;
}

/** Whether a record's value is the declared tombstone value (a number compared by its exact text). */
function equalsScalar(value: JsonValue | undefined, expected: JsonScalar): boolean {
  if (value === undefined) return false;
  if (isLosslessNumber(value)) return typeof expected === "number" && Number(value.value) === expected || String(expected) === value.value;
  return value === expected;
}
