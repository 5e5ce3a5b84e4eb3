// What a table's `_delta_log` folder holds: commit files and checkpoints by version, each with its
// modification time (Delta's commit timestamp for time travel), from one listing.

import type { Lake } from "../lake.ts";
import { logPath } from "./actions.ts";

export interface LogEntry {
  readonly path: string;
  readonly size: number;
  readonly modified: number;
}

export interface Checkpoint {
  readonly version: number;
  readonly kind: "classic" | "multi-part" | "v2";
  /** Its file, or all parts of a multi-part checkpoint in order. */
  readonly files: readonly LogEntry[];
}

export interface LogFiles {
  readonly commits: ReadonlyMap<number, LogEntry>;
  /** Complete checkpoints only (a multi-part checkpoint with a missing part is ignored, as the protocol says). */
  readonly checkpoints: readonly Checkpoint[];
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI_PART = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2 = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

export async function listLog(lake: Lake, root: string): Promise<LogFiles> {
  const commits = new Map<number, LogEntry>();
  const checkpoints: Checkpoint[] = [];
  const parts = new Map<string, LogEntry[]>();
  const prefix = `${logPath(root)}/`;
  for await (const object of lake.list(logPath(root))) {
    const name = object.path.slice(prefix.length);
    if (name.includes("/")) continue; // _sidecars/, _staged_commits/
    const entry: LogEntry = { path: object.path, size: object.size, modified: object.modified ?? 0 };
    let m: RegExpExecArray | null;
    if ((m = COMMIT.exec(name))) commits.set(Number(m[1]), entry);
    else if ((m = CLASSIC.exec(name))) checkpoints.push({ version: Number(m[1]), kind: "classic", files: [entry] });
    else if ((m = V2.exec(name))) checkpoints.push({ version: Number(m[1]), kind: "v2", files: [entry] });
    else if ((m = MULTI_PART.exec(name))) {
      const key = `${m[1]}/${Number(m[3])}`;
      parts.set(key, [...(parts.get(key) ?? []), entry]);
    }
  }
  for (const [key, files] of parts) {
    const [version, count] = key.split("/").map(Number);
    if (files.length === count) checkpoints.push({ version, kind: "multi-part", files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)) });
  }
  // Newest first; at one version a single-file checkpoint is preferred over a multi-part one.
  const rank = { classic: 0, v2: 1, "multi-part": 2 } as const;
  checkpoints.sort((a, b) => b.version - a.version || rank[a.kind] - rank[b.kind]);
  return { commits, checkpoints };
}

/**
 * Commit timestamps by version: the commit file's modification time, made strictly increasing as Spark
 * does (a clock step back never makes an older version look newer).
 */
export function commitTimestamps(log: LogFiles): Map<number, number> {
  const versions = [...log.commits.keys()].sort((a, b) => a - b);
  const stamps = new Map<number, number>();
  let last = -Infinity;
  for (const v of versions) {
    last = Math.max(log.commits.get(v)!.modified, last + 1);
    stamps.set(v, last);
  }
  return stamps;
}
