// Errors a user can cause. The CLI prints their message (never a stack) and exits with their code.

export abstract class MallardError extends Error {
  abstract readonly exitCode: number;
}

/** A declaration, config file or command line is wrong. Exit code 2. */
export class ConfigError extends MallardError {
  readonly exitCode = 2;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    // One line per problem whatever a name holds: a line break typed into a name is shown escaped.
    const lines = problems.map((p) => p.replace(/\r?\n|\r/g, (b) => JSON.stringify(b).slice(1, -1)));
    super(lines.length === 1 ? lines[0] : `${lines.length} problems:\n  - ${lines.join("\n  - ")}`);
    this.problems = lines;
    this.name = "ConfigError";
  }
}

/** A source could not be read, or changed in a way Mallard will not follow silently. Exit code 1. */
export class SourceError extends MallardError {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SourceError";
  }
}

/** A source table changed type in a way bronze will not follow silently; retrying cannot help. Exit code 1. */
export class SchemaChanged extends SourceError {
  constructor(message: string) {
    super(message);
    this.name = "SchemaChanged";
  }
}

/** A quality check with severity `fail` failed. Exit code 1. */
export class CheckFailed extends MallardError {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "CheckFailed";
  }
}

/** A stage failed at run time for a reason the user can act on (bad SQL, missing secret). Exit code 1. */
export class StageError extends MallardError {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StageError";
  }
}

/** The lake cannot be reached or written (a wrong path, no permission, a full disk). Exit code 1. */
export class LakeError extends MallardError {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LakeError";
  }
}

/** The task queue cannot be reached or used (a wrong key, no permission, a bad queue name). Exit code 1. */
export class QueueError extends MallardError {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "QueueError";
  }
}

/**
 * Message of any thrown value on one line, with connection-string passwords redacted. A ConfigError keeps
 * its list of problems, one per line; anything else is one line (see oneLine).
 */
export function describeError(error: unknown): string {
  if (error instanceof ConfigError) return redact(error.message);
  const text = error instanceof Error ? error.message : String(error);
  return redact(oneLine(text));
}

/**
 * A library's message on one line: DuckDB's `LINE 1:` excerpt of the SQL and its caret (the SQL is
 * Mallard's, not the user's, and can hold literals) and Azure Storage's RequestId/Time trailer are dropped;
 * what remains (DuckDB's "Candidate bindings", say) is joined with spaces.
 */
export function oneLine(text: string): string {
  const kept: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^LINE \d+:/.test(line)) break;
    if (!line || /^\^+$/.test(line) || /^(RequestId|Time):/.test(line)) continue;
    if (!kept.includes(line)) kept.push(line);
  }
  return kept.join(" ");
}

/** Hide credentials in URLs (`postgres://user:pw@host`) and `password=…` pairs. */
export function redact(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@")
    .replace(/\b(password|pwd|accountkey|sharedaccesskey|sig)=([^;&\s]+)/gi, "$1=***");
}
