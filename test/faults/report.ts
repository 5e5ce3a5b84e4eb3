// What every fault class reports: the cases it tried and survived, and one line per case that did not.
// The suite prints them as a table and, last, as one JSON object.

export interface ClassResult {
  /** The fault class, as the table shows it. */
  readonly name: string;
  readonly tried: number;
  readonly survived: number;
  /** One line per case that failed. */
  readonly failures: readonly string[];
  /** A word on what was tried (shown under the table). */
  readonly note?: string;
}

/** A case: its name and, when it failed, why. */
export interface CaseOutcome {
  readonly name: string;
  readonly failure?: string;
}

export function classResult(name: string, cases: readonly CaseOutcome[], note?: string): ClassResult {
  const failures = cases.filter((c) => c.failure).map((c) => `${c.name}: ${c.failure}`);
  return { name, tried: cases.length, survived: cases.length - failures.length, failures, note };
}

/** Run `body` and turn a throw into a failed case: a fault case never stops the suite. */
export async function tryCase(name: string, body: () => Promise<string | undefined | void>): Promise<CaseOutcome> {
  try {
    const failure = await body();
    return failure ? { name, failure } : { name };
  } catch (e) {
    return { name, failure: `threw: ${(e as Error).message?.split("\n")[0] ?? String(e)}` };
  }
}

export function table(results: readonly ClassResult[]): string {
  const rows = [["fault class", "tried", "survived"], ...results.map((r) => [r.name, String(r.tried), String(r.survived)])];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padStart(widths[2])}`;
  return [line(rows[0]), "-".repeat(widths[0] + widths[1] + widths[2] + 4), ...rows.slice(1).map(line)].join("\n");
}

/** Run `tasks` with at most `limit` at once, results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  }));
  return results;
}
