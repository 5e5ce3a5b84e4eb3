// Driver failures as SourceErrors, the same way for every database source: each driver only says how to
// word its own errors (`reason`); wrapping, redaction and the safe `cause` are here once.

import { redact, SourceError } from "../errors.ts";

/** Longest driver message kept: DuckDB's CSV errors can quote megabytes of a row. */
const MAX_REASON_CHARS = 1_000;

/** A driver's message made fit for logs: no quoted source rows (data does not belong there), redacted, cut short. */
export function driverText(text: string): string {
  const kept = text.split("\n").filter((line) => !/^\s*Original Line:/.test(line)).join("\n");
  return redact(kept.length > MAX_REASON_CHARS ? `${kept.slice(0, MAX_REASON_CHARS)}…` : kept);
}

export interface DriverErrors {
  /** A copy of an error that is safe to keep as a `cause`: message redacted, no driver internals. */
  scrub(error: unknown): Error;
  /** Run `body`, turning driver errors into a SourceError prefixed with `what` (a table, an action). */
  sourceErrors<T>(what: string, body: () => Promise<T>): Promise<T>;
}

/** The wrapping for one driver, given how its errors read. */
export function driverErrors(reason: (error: unknown) => string): DriverErrors {
  const scrub = (error: unknown): Error => {
    const copy = new Error(reason(error));
    copy.name = error instanceof Error ? error.name : "Error";
    return copy;
  };
  return {
    scrub,
    async sourceErrors<T>(what: string, body: () => Promise<T>): Promise<T> {
      try {
        return await body();
      } catch (error) {
        if (error instanceof SourceError) throw error;
        throw new SourceError(`${what}: ${reason(error)}`, { cause: scrub(error) });
      }
    },
  };
}
