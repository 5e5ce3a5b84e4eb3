// REST API declarations: a source (`source.rest`) and its resource, an endpoint (`bronze.endpoint`).
// Plain data, with nothing per API but what is declared here: where the records are in a page, how
// pages follow each other, how requests authenticate and which parameter asks for changed records.
// The connector is runtime/sources/rest/.

import type { Duration } from "./duration.ts";
import type { SecretRef } from "./secret.ts";

/** A value that is better kept in a secret store; a plain string ships in the declaration. */
export type SecretValue = SecretRef | string;

/** How each request proves who it is. Values come from the secret chain and are never printed. */
export type RestAuth =
  /** A header holding a key. @example { kind: "apiKey", header: "X-API-Key", key: secret("shop-api-key") } */
  | { readonly kind: "apiKey"; readonly header: string; readonly key: SecretValue }
  /** `Authorization: Bearer <token>`. */
  | { readonly kind: "bearer"; readonly token: SecretValue }
  /**
   * OAuth 2.0 client credentials (RFC 6749 §4.4): a token from `tokenUrl`, renewed before it expires
   * and again when the API answers 401.
   */
  | {
      readonly kind: "oauth2";
      readonly tokenUrl: string;
      readonly clientId: SecretValue;
      readonly clientSecret: SecretValue;
      readonly scope?: string;
      /** How the client authenticates at the token endpoint. @default "basic" (HTTP Basic; "post": in the form body) */
      readonly clientAuth?: "basic" | "post";
    };

export interface RestSourceArgs {
  /** Every endpoint's path is relative to this. @example "https://api.example.com/v1" */
  baseUrl: string;
  auth?: RestAuth;
  /** Headers sent with every request (not for secrets: use `auth`). @example { Accept: "application/json" } */
  headers?: Readonly<Record<string, string>>;
  /**
   * Client-side rate limit over all of this source's requests (retries included): at most `requests`
   * in any window of `per`. @example { requests: 10, per: "1 second" }
   */
  rateLimit?: { readonly requests: number; readonly per: Duration };
  /**
   * Retries of a request answered 408, 429 or 5xx, or whose connection failed (a body cut off midway is
   * resumed with a Range request when the server allows it). A `Retry-After` (seconds or an HTTP date)
   * is honoured; otherwise the wait doubles from `backoff`, with jitter.
   * @default { attempts: 6, backoff: "1 second", maxWait: "5 minutes" }
   */
  retry?: { readonly attempts?: number; readonly backoff?: Duration; readonly maxWait?: Duration };
  /** Longest wait for one response, headers and body. @default "60 seconds" */
  timeout?: Duration;
  /** Rows per committed chunk. @default 1_000_000 */
  chunkRows?: number;
}

export interface RestSource {
  readonly kind: "rest";
  readonly name: string;
  readonly baseUrl: string;
  readonly auth?: RestAuth;
  readonly headers?: Readonly<Record<string, string>>;
  readonly rateLimit?: RestSourceArgs["rateLimit"];
  readonly retry?: RestSourceArgs["retry"];
  readonly timeout?: Duration;
  readonly chunkRows?: number;
}

/** How one page leads to the next. Without one, an endpoint is a single request. */
export type Paginator =
  /** `?page=1`, `?page=2`, … until a page has fewer than `size` records (or none). */
  | { readonly kind: "page"; readonly param?: string; readonly start?: number; readonly sizeParam?: string; readonly size?: number }
  /** `?offset=0&limit=100`, `?offset=100&limit=100`, … until a page has fewer than `limit` records. */
  | { readonly kind: "offset"; readonly offsetParam?: string; readonly limitParam?: string; readonly limit: number }
  /** The body holds the next page's cursor at `field` (a dot path); it is sent as `param`. Ends when absent or null. */
  | { readonly kind: "cursor"; readonly field: string; readonly param: string }
  /** The body holds the next page's URL at `field` (a dot path). Ends when absent or null. */
  | { readonly kind: "nextLink"; readonly field: string }
  /** RFC 8288 `Link: <…>; rel="next"` header (GitHub, GitLab, Shopify). Ends when there is no `next`. */
  | { readonly kind: "linkHeader"; readonly rel?: string };

/** How an incremental load's lower bound is sent: ISO 8601, a date, or seconds / milliseconds since 1970. */
export type SinceFormat = "iso" | "date" | "unixSeconds" | "unixMillis";

/** A JSON scalar a tombstone field is compared with. */
export type JsonScalar = string | number | boolean | null;

/** An endpoint of a REST source, as the connector reads it. Built by `bronze.endpoint`. */
export interface EndpointResource {
  readonly kind: "endpoint";
  /** Relative to the source's `baseUrl`. @example "/orders" */
  readonly path: string;
  /** Query parameters of every request. */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Where the records are in a page: a dot path to an array; `[]` after a segment goes through each
   * element of an array on the way (child records). Omitted: the body is the array.
   * @example "data", "data.items", "data[].lines"
   */
  readonly records?: string;
  readonly paginate?: Paginator;
  /** Incremental: the parameter that asks for records changed since the checkpoint (inclusive). */
  readonly since?: { readonly param: string; readonly format?: SinceFormat };
  /** Pages come in cursor order (every cursor column), so each chunk's last record is a checkpoint. */
  readonly ordered?: boolean;
  /** Declared column types (DuckDB types); a declared column is never inferred. @example { amount: "DECIMAL(12,2)" } */
  readonly types?: Readonly<Record<string, string>>;
  /** Records sampled to discover the other columns; 0: only the declared `types`. @default 1000 */
  readonly sample?: number;
  /** Child records: columns copied from the enclosing record. @example { order_id: "id" } */
  readonly parent?: Readonly<Record<string, string>>;
  /** A record whose `field` equals `equals` is a delete of its key. */
  readonly tombstone?: { readonly field: string; readonly equals: JsonScalar };
}

/** `/v1/orders` → `GET /v1/orders`, `… → data[].lines` for child records. */
export function describeEndpoint(resource: EndpointResource): string {
  return `GET ${resource.path}${resource.records?.includes("[]") ? ` → ${resource.records}` : ""}`;
}

/** The source's auth values by field; `secret` marks those that must not ship in plain text (a client id may). */
export function restAuthValues(source: RestSource): { field: string; value: SecretValue; secret: boolean }[] {
  const auth = source.auth;
  if (!auth) return [];
  switch (auth.kind) {
    case "apiKey":
      return [{ field: "auth.key", value: auth.key, secret: true }];
    case "bearer":
      return [{ field: "auth.token", value: auth.token, secret: true }];
    case "oauth2":
      return [{ field: "auth.clientId", value: auth.clientId, secret: false }, { field: "auth.clientSecret", value: auth.clientSecret, secret: true }];
  }
}

export function restSource(name: string, args: RestSourceArgs): RestSource {
  return {
    kind: "rest", name, baseUrl: args.baseUrl, auth: args.auth, headers: args.headers, rateLimit: args.rateLimit,
    retry: args.retry, timeout: args.timeout, chunkRows: args.chunkRows,
  };
}
