// Delta Lake log actions (PROTOCOL.md, "Actions") and how commit files are named and encoded: one JSON
// action per line in `_delta_log/<20-digit version>.json`.

import { lakePath } from "../lake.ts";

export interface Protocol {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  /** Only with reader version 3. */
  readonly readerFeatures?: readonly string[] | null;
  /** Only with writer version 7. */
  readonly writerFeatures?: readonly string[] | null;
}

export interface Metadata {
  readonly id: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly format: { readonly provider: string; readonly options: Readonly<Record<string, string>> };
  /** The table schema as Spark's JSON (see schema.ts). */
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly createdTime?: number | null;
  readonly configuration: Readonly<Record<string, string>>;
}

export interface AddFile {
  /** Relative to the table root, URI-encoded (see `encodePath`). */
  readonly path: string;
  /** Partition column → value as a string; null or "" for a null value. */
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  /** JSON: numRecords, minValues, maxValues, nullCount. */
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string>> | null;
  readonly deletionVector?: unknown;
}

export interface RemoveFile {
  readonly path: string;
  readonly deletionTimestamp?: number | null;
  readonly dataChange: boolean;
  readonly extendedFileMetadata?: boolean | null;
  readonly partitionValues?: Readonly<Record<string, string | null>> | null;
  readonly size?: number | null;
  readonly deletionVector?: unknown;
}

/** An application's progress, committed atomically with data (Delta's idempotent writes). */
export interface Txn {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number | null;
}

export interface CommitInfo {
  readonly timestamp?: number;
  readonly operation?: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly isBlindAppend?: boolean;
  readonly engineInfo?: string;
  readonly txnId?: string;
  /** Free text shown by Spark's DESCRIBE HISTORY; Mallard keeps its provenance here as JSON. */
  readonly userMetadata?: string;
  readonly [key: string]: unknown;
}

export type Action =
  | { readonly protocol: Protocol }
  | { readonly metaData: Metadata }
  | { readonly add: AddFile }
  | { readonly remove: RemoveFile }
  | { readonly txn: Txn }
  | { readonly commitInfo: CommitInfo }
  | { readonly domainMetadata: { readonly domain: string; readonly configuration: string; readonly removed: boolean } };

export const LOG_DIR = "_delta_log";

export function logPath(root: string, name = ""): string {
  return lakePath(root, LOG_DIR, name);
}

/** `00000000000000000042` */
export function versionName(version: number): string {
  return String(version).padStart(20, "0");
}

export function commitPath(root: string, version: number): string {
  return logPath(root, `${versionName(version)}.json`);
}

/** A commit file's text: newline-delimited JSON, one action per line. */
export function encodeCommit(actions: readonly Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join("\n") + "\n";
}

export function parseCommit(text: string, where: string): Record<string, unknown>[] {
  const actions: Record<string, unknown>[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    try {
      actions.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      throw new Error(`${where}: line ${i + 1} is not JSON`);
    }
  }
  return actions;
}

// RFC 2396 path characters Spark leaves as they are; everything else in a data file path is %-encoded.
const PLAIN = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** A data file's path relative to the table root, as an `add.path` URI. */
export function encodePath(relative: string): string {
  let out = "";
  for (const ch of relative) out += PLAIN.test(ch) ? ch : Buffer.from(ch).toString("hex").replace(/../g, (h) => `%${h.toUpperCase()}`);
  return out;
}

/** The lake path of a file an `add` or `remove` names (decoded once, as Spark does). */
export function dataFilePath(root: string, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new Error(`${root}: data file "${path}" is an absolute URI; Mallard reads only files inside the table folder`);
  }
  return lakePath(root, decodeURIComponent(path));
}
