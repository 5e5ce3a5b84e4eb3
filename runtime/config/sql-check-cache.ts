// Remembers which pieces of user SQL already passed the SQL policy (sql-policy.ts), so that loading an
// unchanged pipeline does not start DuckDB to parse them again: `mallard plan` answers without loading
// DuckDB at all. A piece is known by the hash of everything its verdict depends on: its text and form,
// the names it may read (its declared inputs), the DuckDB version whose parser judged it and the code of
// the checker. Any change to one of those is a different key, so changed SQL is always checked again.
// Only passes are remembered: a refusal is recomputed (with its message) every time.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlSnippet } from "./sql-policy.ts";

/** Set by scripts/build.mjs: the hash of every Mallard source file in the build (see checkerIdentity). */
declare const MALLARD_BUILD_ID: string | undefined;

/** Where the cache lives, inside the project's own (git-ignored) work folder. */
export const SQL_CHECK_CACHE = join(".mallard", "cache", "sql-checks.json");

/** Passes kept; the oldest go first. Enough for many pipelines in one project. */
const MAX_ENTRIES = 4096;

/**
 * The files whose code decides a verdict, run from source: the policy, the parser walk and the quoting of
 * the parsed text. (A compiled build keys on all of its sources instead; see scripts/build.mjs.)
 */
const CHECKER_SOURCES = ["./sql-policy.ts", "./sql-tables.ts", "../engine/sql.ts"];

export interface SqlCheckKey {
  readonly snippet: Pick<SqlSnippet, "sql" | "form">;
  /** The names the SQL may read as tables (the stage's input views, and `model` for a check). */
  readonly visible: ReadonlySet<string>;
}

/** What identifies the checker and its parser; a cache is used only when both are known. */
export interface CheckerIdentity {
  readonly checker: string;
  readonly duckdb: string;
}

export class SqlCheckCache {
  private readonly known: ReadonlySet<string>;
  private readonly added = new Set<string>();

  private constructor(
    private readonly file: string | undefined,
    private readonly identity: CheckerIdentity | undefined,
    /** The passes read, oldest first. */
    private readonly passed: readonly string[],
  ) {
    this.known = new Set(passed);
  }

  /**
   * The cache of the project at `projectRoot`. Without a known checker identity (a bundle that is neither
   * the compiled package nor the sources, such as the Functions bundle) it remembers nothing.
   */
  static async open(projectRoot: string, identity: CheckerIdentity | undefined = checkerIdentity()): Promise<SqlCheckCache> {
    if (!identity) return new SqlCheckCache(undefined, undefined, []);
    const file = join(projectRoot, SQL_CHECK_CACHE);
    const passed = await readFile(file, "utf8").then(
      (text) => {
        const parsed = JSON.parse(text) as { passed?: unknown };
        return Array.isArray(parsed.passed) ? parsed.passed.filter((k): k is string => typeof k === "string") : [];
      },
      () => [] as string[], // missing or unreadable: check everything
    ).catch(() => [] as string[]); // not JSON (a torn or hand-edited file): the same
    return new SqlCheckCache(file, identity, passed);
  }

  private keyOf(key: SqlCheckKey): string | undefined {
    if (!this.identity) return undefined;
    const hash = createHash("sha256");
    for (const part of [this.identity.checker, this.identity.duckdb, key.snippet.form, key.snippet.sql, ...[...key.visible].sort()]) {
      // Length-prefixed, so no two different lists of parts hash the same text.
      hash.update(`${part.length}:${part}`);
    }
    return hash.digest("hex");
  }

  /** Whether this SQL, with these inputs, passed the same checker on the same DuckDB before. */
  has(key: SqlCheckKey): boolean {
    const k = this.keyOf(key);
    return k !== undefined && this.known.has(k);
  }

  /** Records a pass (kept by save()). */
  add(key: SqlCheckKey): void {
    const k = this.keyOf(key);
    if (k !== undefined) this.added.add(k);
  }

  /** Writes the passes added, atomically; a cache that cannot be written only costs time, never an error. */
  async save(): Promise<void> {
    if (!this.file || this.added.size === 0) return;
    const passed = [...this.passed.filter((k) => !this.added.has(k)), ...this.added].slice(-MAX_ENTRIES);
    const temp = `${this.file}.${process.pid}.tmp`;
    await mkdir(dirname(this.file), { recursive: true })
      .then(() => writeFile(temp, JSON.stringify({ passed })))
      .then(() => rename(temp, this.file!))
      .catch(() => rm(temp, { force: true }).catch(() => undefined));
  }
}

/**
 * The checker's code and DuckDB's version, read without loading DuckDB. The compiled package carries a
 * build id; from source the checker's files are hashed; anything else (another bundler's output) has none.
 */
export function checkerIdentity(): CheckerIdentity | undefined {
  const duckdb = duckdbVersion();
  if (!duckdb) return undefined;
  if (typeof MALLARD_BUILD_ID === "string") return { checker: `build:${MALLARD_BUILD_ID}`, duckdb };
  if (!import.meta.url.endsWith(".ts")) return undefined;
  try {
    const hash = createHash("sha256");
    for (const source of CHECKER_SOURCES) hash.update(readFileSync(fileURLToPath(new URL(source, import.meta.url))));
    return { checker: `source:${hash.digest("hex")}`, duckdb };
  } catch {
    return undefined;
  }
}

/** The installed @duckdb/node-api's version (it pins its DuckDB build exactly), from its package.json. */
function duckdbVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require("@duckdb/node-api/package.json") as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}
