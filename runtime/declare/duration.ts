// Durations in declarations are template-literal strings ("10 minutes"), parsed once into milliseconds.

export type DurationUnit =
  | "second" | "seconds" | "minute" | "minutes" | "hour" | "hours" | "day" | "days" | "week" | "weeks";

/** A duration such as `"10 minutes"`, `"1 day"`, `"36 hours"`. */
export type Duration = `${number} ${DurationUnit}`;

const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2].toLowerCase()];
}

/** The same duration as a SQL interval literal body, e.g. `"600 seconds"`. */
export function durationSeconds(text: Duration): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`);
  return ms / 1000;
}
