// When to retry a request and how long to wait first. A server's Retry-After wins (both forms: seconds,
// or an HTTP date read against the response's own Date header so a skewed clock does not matter);
// otherwise the wait doubles from the backoff, with full jitter so parallel loads spread out.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Longest wait between attempts; a longer Retry-After fails the load instead of stalling it. */
  readonly maxWaitMs: number;
}

/** Statuses worth another attempt: timeouts, throttling, and server errors other than "not implemented". */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Milliseconds a `Retry-After` value asks for: delay-seconds, or an HTTP date (RFC 9110 §10.2.3)
 * measured from the response's `Date` (or now). Undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | null, responseDate: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const sent = responseDate === null ? Number.NaN : Date.parse(responseDate);
  return Math.max(0, at - (Number.isNaN(sent) ? now : sent));
}

/** The backoff before attempt `attempt + 1` (attempt counts from 1): random in [0, backoff · 2^(attempt-1)], capped. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxWaitMs, policy.backoffMs * 2 ** (attempt - 1));
  return Math.round(ceiling * random());
}
