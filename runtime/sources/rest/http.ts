// The HTTP side of a REST source: one GET, authenticated, rate-limited, retried, and read whole. A 429
// or 5xx waits as Retry-After asks (or backs off) and tries again; a 401 renews an OAuth token once; a
// body cut off midway is resumed from the byte it stopped at (Range + If-Range) when the server allows
// it, or fetched again. Every source shares one client, so its rate limit covers all its stages.

import pThrottle from "p-throttle";
import { setTimeout as delay } from "node:timers/promises";
import { SourceError } from "../../errors.ts";
import type { Authenticator } from "./auth.ts";
import { backoffMs, retryableStatus, retryAfterMs, type RetryPolicy } from "./retry.ts";

export interface HttpClientOptions {
  /** For messages: `source "shop"`. */
  readonly where: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: Authenticator;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly rateLimit?: { readonly limit: number; readonly intervalMs: number };
  /** Largest body read into memory (one page). @default 256 MiB */
  readonly maxBodyBytes?: number;
  readonly fetcher?: typeof fetch;
}

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** Where a cut-off body stopped, and what lets the server resume it (RFC 9110 §14.2, §13.1.5). */
interface Partial {
  readonly parts: Buffer[];
  readonly bytes: number;
  readonly validator?: string;
}

const DEFAULT_MAX_BODY = 256 << 20;

export class HttpClient {
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;
  /** No request starts before this time: a 429's Retry-After holds every request of the source. */
  private notBefore = 0;

  constructor(private readonly options: HttpClientOptions) {
    const fetcher = options.fetcher ?? fetch;
    const send = (url: string, init: RequestInit) => fetcher(url, init);
    // Strict: at most `limit` requests start in any window of `intervalMs`, not just per fixed window.
    this.send = options.rateLimit ? pThrottle({ limit: options.rateLimit.limit, interval: options.rateLimit.intervalMs, strict: true })(send) : send;
  }

  /** GET `url` and read its whole body; throws SourceError naming the request once retries are spent. */
  async get(url: URL, signal?: AbortSignal): Promise<HttpResponse> {
    const { retry } = this.options;
    let partial: Partial | undefined;
    let refusedOnce = false;
    for (let attempt = 1; ; attempt++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await delay(wait, undefined, { signal });
      const failure = await this.attempt(url, partial, signal).catch((error: unknown) => {
        if (error instanceof SourceError) throw error;
        return { error };
      });
      if ("body" in failure) return failure;
      if (signal?.aborted) throw signal.reason;
      let waitMs: number;
      let why: string;
      if ("error" in failure) {
        why = `connection failed (${networkReason(failure.error)})`;
        partial = ("partial" in failure ? failure.partial : undefined) ?? partial;
        waitMs = backoffMs(retry, attempt);
      } else {
        const { response } = failure;
        why = `${response.status} ${response.statusText}`.trim();
        if (response.status === 401 && !refusedOnce && this.options.auth.refused()) {
          refusedOnce = true;
          attempt--; // new credentials: this attempt does not count
          continue;
        }
        if (!retryableStatus(response.status)) throw new SourceError(`${this.options.where}: GET ${describeUrl(url)}: ${why}${await excerpt(response)}`);
        const asked = retryAfterMs(response.headers.get("retry-after"), response.headers.get("date"));
        if (asked !== undefined && asked > retry.maxWaitMs) {
          throw new SourceError(`${this.options.where}: GET ${describeUrl(url)}: ${why} with Retry-After of ${Math.round(asked / 1000)} s, more than retry.maxWait`);
        }
        waitMs = asked ?? backoffMs(retry, attempt);
        if (response.status === 429) this.notBefore = Math.max(this.notBefore, Date.now() + waitMs);
      }
      if (attempt >= retry.attempts) throw new SourceError(`${this.options.where}: GET ${describeUrl(url)}: ${why} after ${attempt} attempts`);
      await delay(waitMs, undefined, { signal });
    }
  }

  /** One request: the whole response, a response not worth reading (an error status), or a failure with what arrived. */
  private async attempt(url: URL, partial: Partial | undefined, signal?: AbortSignal):
    Promise<HttpResponse | { response: Response } | { error: unknown; partial?: Partial }> {
    const headers: Record<string, string> = { accept: "application/json", ...this.options.headers, ...(await this.options.auth.headers(signal)) };
    if (partial?.validator) Object.assign(headers, { range: `bytes=${partial.bytes}-`, "if-range": partial.validator });
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const response = await this.send(url.href, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: "follow" });
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel().catch(() => {});
      return { response };
    }
    // 206: the rest of the body after `partial`; 200: the whole body (the resource changed, or no ranges).
    const resumed = response.status === 206 && partial !== undefined && contentRangeStart(response.headers.get("content-range")) === partial.bytes;
    if (response.status === 206 && !resumed) {
      await response.body?.cancel().catch(() => {});
      return { error: new Error("the server answered a range that does not continue the body"), partial: undefined };
    }
    const parts = resumed ? [...partial!.parts] : [];
    let bytes = resumed ? partial!.bytes : 0;
    const validator = resumableValidator(response.headers) ?? (resumed ? partial!.validator : undefined);
    const limit = this.options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    try {
      for await (const piece of response.body ?? []) {
        parts.push(Buffer.from(piece));
        bytes += piece.byteLength;
        if (bytes > limit) throw new SourceError(`${this.options.where}: GET ${describeUrl(url)}: the response is larger than ${limit >> 20} MiB (a page this big should be paged)`);
      }
    } catch (error) {
      if (error instanceof SourceError) throw error;
      return { error, partial: validator ? { parts, bytes, validator } : undefined };
    }
    return { url: response.url || url.href, status: response.status, headers: response.headers, body: Buffer.concat(parts, bytes) };
  }
}

/** A strong ETag or a Last-Modified date lets a cut-off body be resumed, when ranges are accepted. */
function resumableValidator(headers: Headers): string | undefined {
  if (headers.get("accept-ranges")?.toLowerCase() !== "bytes") return undefined;
  const etag = headers.get("etag");
  if (etag && !etag.startsWith("W/")) return etag;
  return headers.get("last-modified") ?? undefined;
}

function contentRangeStart(value: string | null): number | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}

/** A failed request's reason, from fetch's error and its cause (ECONNRESET, a timeout, …). */
function networkReason(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The start of an error response's body, on one line: APIs say there what was wrong. */
async function excerpt(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  const line = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return line ? `: ${line}` : "";
}

const SECRET_PARAM = /key|token|secret|sig|password|auth|code/i;

/** A URL for messages: path and query, with values of parameters that look like credentials hidden. */
export function describeUrl(url: URL): string {
  const query = [...url.searchParams].map(([k, v]) => `${k}=${SECRET_PARAM.test(k) ? "***" : v}`).join("&");
  return `${url.pathname}${query ? `?${query}` : ""}`;
}
