// Posting one webhook message: JSON over HTTPS, retried with exponential backoff (full jitter) on 408,
// 429, 5xx and network failures, waiting at least what Retry-After asks, all within a total time bound.
// The URL is a credential (the path or query is the key), so no message here ever contains it, nor
// anything a network error quotes from it.

import type { WebhookRetry } from "../declare/notify.ts";
import { redact } from "../errors.ts";

export interface DeliveryOptions extends Required<WebhookRetry> {
  /** First backoff; doubled per attempt, with full jitter. @default 1000 */
  baseDelayMs?: number;
  /** Longest wait for one response. @default 10000 */
  attemptTimeoutMs?: number;
}

export type Delivery =
  | { readonly ok: true; readonly attempts: number; readonly status: number }
  | { readonly ok: false; readonly attempts: number; readonly reason: string };

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export async function deliver(url: string, body: unknown, options: DeliveryOptions): Promise<Delivery> {
  const started = Date.now();
  const deadline = started + options.totalSeconds * 1000;
  const base = options.baseDelayMs ?? 1000;
  const text = JSON.stringify(body);
  let last = "";
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: text,
        redirect: "error",
        signal: AbortSignal.timeout(Math.max(1, Math.min(options.attemptTimeoutMs ?? 10_000, remaining))),
      });
      // The body is read (and dropped) so the connection is released; a receiver's text can echo the URL.
      const answer = await response.text().catch(() => "");
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      last = `HTTP ${response.status}${answer ? ` ${scrub(answer.slice(0, 120), url)}` : ""}`;
      if (!RETRYABLE(response.status)) return { ok: false, attempts: attempt, reason: `${last} (not retried: the receiver refused the message)` };
      retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    } catch (e) {
      last = networkReason(e, url);
    }
    if (attempt >= options.maxAttempts) return { ok: false, attempts: attempt, reason: `${last} (gave up after ${attempt} attempts)` };
    const backoff = Math.random() * base * 2 ** (attempt - 1);
    const wait = Math.max(backoff, retryAfterMs ?? 0);
    if (Date.now() + wait >= deadline) {
      const why = retryAfterMs !== undefined && retryAfterMs >= backoff ? `the receiver asked to wait ${Math.ceil(retryAfterMs / 1000)} s` : "the next attempt";
      return { ok: false, attempts: attempt, reason: `${last} (gave up: ${why} would pass the ${options.totalSeconds} s bound)` };
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A fetch failure as its cause's code ("ECONNREFUSED", "timed out"), never the URL it was for. */
function networkReason(e: unknown, url: string): string {
  const error = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error?.name === "TimeoutError") return "no response in time";
  const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(e);
  return `network error: ${scrub(String(cause), url)}`;
}

/** Remove the URL and its secret parts from a text (a receiver's answer, a library's message). */
export function scrub(text: string, url: string): string {
  let out = text.split(url).join("***");
  try {
    const parsed = new URL(url);
    for (const part of [parsed.pathname + parsed.search, parsed.search.slice(1), parsed.pathname]) {
      if (part.length > 1) out = out.split(part).join("***");
    }
    for (const value of parsed.searchParams.values()) if (value.length >= 8) out = out.split(value).join("***");
  } catch {
    // Not a URL: the whole text was replaced above if it held it.
  }
  return redact(out.replace(/\s+/g, " ").trim());
}
