// Pages of an endpoint, one at a time: the first request, then the next as its paginator says (page
// number, offset/limit, a cursor or a next link in the body, or an RFC 8288 Link header), until the
// paginator says there are no more. Each page is parsed losslessly and its records found at the
// declared path; only one page is held at a time.

import LinkHeader from "http-link-header";
import { isLosslessNumber, parse } from "lossless-json";
import type { EndpointResource, Paginator } from "../../declare/rest.ts";
import { SourceError } from "../../errors.ts";
import { describeUrl, type HttpClient } from "./http.ts";
import type { JsonValue } from "./types.ts";

export type JsonRecord = Readonly<Record<string, JsonValue>>;

export interface Page {
  readonly url: URL;
  /** The page's records, each with the declared parent columns added (child records). */
  readonly records: readonly JsonRecord[];
}

/** Guard against a paginator that never ends (a server repeating its last page). */
const MAX_PAGES = 10_000_000;

/** The pages of `resource` read from `first` (its URL with the endpoint's and the slice's parameters). */
export async function* readPages(client: HttpClient, resource: EndpointResource, first: URL, where: string, signal?: AbortSignal): AsyncGenerator<Page> {
  const paginate = resource.paginate;
  let url: URL | undefined = new URL(first);
  let index = 0;
  const seen = new Set<string>();
  if (paginate?.kind === "page") setParams(url, { [paginate.param ?? "page"]: paginate.start ?? 1, ...(paginate.sizeParam && paginate.size ? { [paginate.sizeParam]: paginate.size } : {}) });
  if (paginate?.kind === "offset") setParams(url, { [paginate.offsetParam ?? "offset"]: 0, [paginate.limitParam ?? "limit"]: paginate.limit });
  while (url) {
    if (++index > MAX_PAGES) throw new SourceError(`${where}: GET ${describeUrl(first)}: more than ${MAX_PAGES} pages; is the paginator declared right?`);
    const response = await client.get(url, signal);
    const body = parseBody(response.body, url, where);
    const { records, listed } = recordsOf(body, resource, url, where);
    yield { url, records };
    const next = nextUrl(paginate, url, response, body, listed);
    if (next && seen.has(next.href)) throw new SourceError(`${where}: GET ${describeUrl(next)}: the paginator leads back to a page already read`);
    if (next) seen.add(next.href);
    url = next;
  }
}

function parseBody(bytes: Buffer, url: URL, where: string): JsonValue {
  if (bytes.length === 0) return null;
  try {
    return parse(bytes.toString("utf8")) as JsonValue;
  } catch (error) {
    throw new SourceError(`${where}: GET ${describeUrl(url)}: the response is not JSON (${(error as Error).message.split("\n")[0].slice(0, 120)})`);
  }
}

/** `listed`: the page's length as the paginator counts it (the outermost array's elements). */
function nextUrl(paginate: Paginator | undefined, url: URL, response: { headers: Headers; url: string }, body: JsonValue, listed: number): URL | undefined {
  if (!paginate) return undefined;
  switch (paginate.kind) {
    case "page": {
      const param = paginate.param ?? "page";
      if (listed === 0 || (paginate.size !== undefined && listed < paginate.size)) return undefined;
      return withParams(url, { [param]: Number(url.searchParams.get(param)) + 1 });
    }
    case "offset": {
      const param = paginate.offsetParam ?? "offset";
      if (listed < paginate.limit) return undefined;
      return withParams(url, { [param]: Number(url.searchParams.get(param)) + listed });
    }
    case "cursor": {
      const cursor = scalarText(at(body, paginate.field));
      return cursor === undefined || cursor === "" ? undefined : withParams(url, { [paginate.param]: cursor });
    }
    case "nextLink": {
      const link = scalarText(at(body, paginate.field));
      return link ? new URL(link, response.url || url) : undefined;
    }
    case "linkHeader": {
      const header = response.headers.get("link");
      const next = header ? LinkHeader.parse(header).rel(paginate.rel ?? "next")[0] : undefined;
      return next ? new URL(next.uri, response.url || url) : undefined;
    }
  }
}

/**
 * The records of a page at the declared path. `a.b` walks objects; `a[]` goes through each element of
 * the array `a`; the last segment names the array of records (or, missing, the body is that array).
 */
export function recordsOf(body: JsonValue, resource: EndpointResource, url: URL, where: string): { records: JsonRecord[]; listed: number } {
  const segments = resource.records ? resource.records.split(".") : [];
  const parent = Object.entries(resource.parent ?? {});
  const out: JsonRecord[] = [];
  let listed: number | undefined;
  const walk = (value: JsonValue | undefined, depth: number, enclosing: JsonRecord | undefined): void => {
    if (depth === segments.length) {
      if (value === undefined || value === null) return;
      if (!Array.isArray(value)) throw new SourceError(`${where}: GET ${describeUrl(url)}: ${resource.records ?? "the body"} is not an array of records`);
      listed ??= value.length;
      for (const element of value) {
        if (!isObject(element)) throw new SourceError(`${where}: GET ${describeUrl(url)}: ${resource.records ?? "the body"} holds ${typeof element === "object" ? "an array" : "a scalar"} where a record (an object) belongs`);
        out.push(parent.length && enclosing ? { ...Object.fromEntries(parent.map(([column, field]) => [column, enclosing[field] ?? null])), ...element } : element);
      }
      return;
    }
    const segment = segments[depth];
    const many = segment.endsWith("[]");
    const field = many ? segment.slice(0, -2) : segment;
    const next = isObject(value) ? value[field] : undefined;
    if (!many) return walk(next, depth + 1, enclosing);
    if (next === undefined || next === null) return;
    if (!Array.isArray(next)) throw new SourceError(`${where}: GET ${describeUrl(url)}: "${field}" is not an array`);
    listed ??= next.length;
    for (const element of next) walk(element, depth + 1, isObject(element) ? element : enclosing);
  };
  walk(body, 0, undefined);
  return { records: out, listed: listed ?? 0 };
}

/** The value at a dot path, or undefined. */
export function at(value: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const field of path.split(".")) current = isObject(current) ? current[field] : undefined;
  return current;
}

function scalarText(value: JsonValue | undefined): string | undefined {
  if (isLosslessNumber(value)) return value.value;
  return typeof value === "string" || typeof value === "boolean" ? String(value) : undefined;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

function setParams(url: URL, params: Readonly<Record<string, string | number>>): void {
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
}

function withParams(url: URL, params: Readonly<Record<string, string | number>>): URL {
  const next = new URL(url);
  setParams(next, params);
  return next;
}
