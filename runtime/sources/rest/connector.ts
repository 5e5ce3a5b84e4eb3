// The REST source connector: an endpoint's schema from sampled records (or declared), and its records
// read page by page into typed Parquet chunks through the shared CSV pipeline, one page in memory at a
// time. Incremental loads send the slice's lower bound as the declared parameter and keep exactly the
// records the slice holds (incremental.ts), whatever the API's filter returns.

import type { EndpointResource, SinceFormat } from "../../declare/rest.ts";
import { describeEndpoint } from "../../declare/rest.ts";
import type { Resource } from "../../declare/sources.ts";
import type { Engine } from "../../engine/engine.ts";
import { quoteIdent } from "../../engine/sql.ts";
import { ConfigError, SourceError } from "../../errors.ts";
import { BRONZE_CODEC, csvToParquetChunks } from "../csv/chunks.ts";
import { defaultStaging } from "../csv/staging.ts";
import { columnOf, type CursorSlice, sinceParameter } from "../incremental.ts";
import type { Chunk, CursorPosition, ReadRequest, ResourceSchema, SourceColumn, SourceConnector } from "../source.ts";
import { authenticator, type ResolvedAuth } from "./auth.ts";
import { HttpClient, type HttpClientOptions } from "./http.ts";
import { readPages } from "./pages.ts";
import type { RetryPolicy } from "./retry.ts";
import { recordBlocks } from "./rows.ts";
import { castFromText, declaredType, SchemaSampler } from "./types.ts";

export interface RestConnectorOptions {
  /** The declared source's name, for messages. */
  readonly name: string;
  readonly baseUrl: string;
  readonly auth?: ResolvedAuth;
  readonly headers?: Readonly<Record<string, string>>;
  readonly rateLimit?: HttpClientOptions["rateLimit"];
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
  readonly fetcher?: typeof fetch;
}

/** The column a tombstone record's marker is stored in: the one key-scan deletes use (bronze-table/deletes). */
export const DELETED_COLUMN = "_mallard_deleted";

const DEFAULT_SAMPLE = 1000;
const DEFAULT_RETRY: RetryPolicy = { attempts: 6, backoffMs: 1000, maxWaitMs: 300_000 };

export function createRestConnector(options: RestConnectorOptions): RestConnector {
  return new RestConnector(options);
}

export class RestConnector implements SourceConnector {
  readonly where: string;
  private readonly client: HttpClient;
  private readonly base: URL;
  /** Stops requests in flight when the connector closes. */
  private readonly stop = new AbortController();

  constructor(private readonly options: RestConnectorOptions) {
    this.base = parseBase(options.baseUrl, options.name);
    this.where = `source "${options.name}" at ${this.base.origin}`;
    if (options.auth && this.base.protocol === "http:" && !isLoopback(this.base.hostname)) {
      throw new ConfigError([`source "${options.name}": baseUrl: ${this.base.origin} is plain http, so the credentials would cross the network unencrypted; use https`]);
    }
    const where = `source "${options.name}"`;
    this.client = new HttpClient({
      where,
      headers: options.headers ?? {},
      auth: authenticator(options.auth, where, options.fetcher),
      retry: { ...DEFAULT_RETRY, ...options.retry },
      timeoutMs: options.timeoutMs ?? 60_000,
      rateLimit: options.rateLimit,
      fetcher: options.fetcher,
    });
  }

  async discover(resource: Resource, known?: readonly SourceColumn[]): Promise<ResourceSchema> {
    if (resource.kind !== "endpoint") throw new ConfigError([`REST ${this.where} serves endpoints, not ${resource.kind}s`]);
    const label = describeEndpoint(resource);
    const declared = Object.fromEntries(Object.entries(resource.types ?? {}).map(([name, type]) => [name, declaredType(name, type, `${this.where}: ${label}`)]));
    const sample = resource.sample ?? DEFAULT_SAMPLE;
    const sampler = new SchemaSampler();
    if (sample > 0) {
      for await (const page of readPages(this.client, resource, this.url(resource), `source "${this.options.name}"`, this.stop.signal)) {
        for (const record of page.records) sampler.add(record);
        if (sampler.records >= sample) break;
      }
    }
    const columns = sampler.columns(declared, known);
    if (columns.length === 0) {
      throw new SourceError(`${this.where}: ${label}: no records to discover columns from; declare them under types (e.g. types: { id: "BIGINT" })`);
    }
    return { label, address: [JSON.stringify(resource)], columns };
  }

  async *read(request: ReadRequest, engine: Engine): AsyncGenerator<Chunk> {
    if (!Number.isInteger(request.chunkRows) || request.chunkRows < 1) {
      throw new SourceError(`chunkRows must be a positive whole number (got ${request.chunkRows})`);
    }
    if (request.range) throw new SourceError(`${this.where}: ${request.schema.label}: an endpoint cannot be split into partitions`);
    const resource = JSON.parse(request.schema.address[0]) as EndpointResource;
    const columns = request.columns ? request.columns.map((name) => columnOf(request.schema, name, "columns")) : request.schema.columns;
    const marker = request.columns === undefined && resource.tombstone !== undefined;
    const stop = new AbortController();
    const signal = AbortSignal.any([this.stop.signal, stop.signal]);
    const checkpoints: (CursorPosition | undefined)[] = [];
    const where = `source "${this.options.name}"`;
    const pages = readPages(this.client, resource, this.url(resource, request.slice), where, signal);
    const blocks = recordBlocks(pages, {
      columns, slice: request.slice, resource, marker, chunkRows: request.chunkRows, where,
      // A discovered schema is what the sample held: a field it lacked would be lost, so it stops the load.
      strictFields: request.columns === undefined && (resource.sample ?? DEFAULT_SAMPLE) > 0,
    }, checkpoints);
    const selectList = [
      ...columns.map((c, i) => `${castFromText(`c${i}`, c.duckType)} AS ${quoteIdent(c.name)}`),
      ...(marker ? [`CAST(c${columns.length} AS BOOLEAN) AS ${quoteIdent(DELETED_COLUMN)}`] : []),
    ].join(", ");
    try {
      const chunks = csvToParquetChunks(blocks, engine, {
        workDir: request.workDir,
        fieldCount: columns.length + (marker ? 1 : 0),
        selectList,
        codec: BRONZE_CODEC.codec,
        compressionLevel: BRONZE_CODEC.level,
        staging: defaultStaging,
        stopSource: () => stop.abort(new Error("extraction stopped")),
      });
      for await (const chunk of chunks) {
        yield { file: chunk.file, rows: chunk.rows, bytes: chunk.bytes, lastCursor: checkpoints.shift() };
      }
    } catch (error) {
      if (error instanceof SourceError || error instanceof ConfigError) throw error;
      throw new SourceError(`${this.where}: extracting ${request.schema.label}: ${(error as Error).message.split("\n")[0]}`);
    }
  }

  async close(): Promise<void> {
    this.stop.abort(new Error("the source was closed"));
  }

  /** The endpoint's first URL: the path under the base, its parameters, and the slice's lower bound. */
  private url(resource: EndpointResource, slice?: CursorSlice): URL {
    const url = new URL(resource.path.replace(/^\//, ""), this.base);
    for (const [k, v] of Object.entries(resource.params ?? {})) url.searchParams.set(k, String(v));
    const since = slice && resource.since ? sinceParameter(slice) : undefined;
    if (since !== undefined && resource.since) url.searchParams.set(resource.since.param, formatSince(since, resource.since.format, slice!));
    return url;
  }
}

/** The lower bound as the API wants it. An integer cursor is sent as it is. */
function formatSince(value: string, format: SinceFormat | undefined, slice: CursorSlice): string {
  const type = slice.columns[0].duckType;
  if (!["DATE", "TIMESTAMP", "TIMESTAMPTZ"].includes(type) || format === undefined) return value;
  const normal = /[zZ]|[+-]\d\d:?\d\d$/.test(value) || type === "DATE" ? value : `${value}Z`;
  const ms = Date.parse(normal.replace(" ", "T"));
  if (Number.isNaN(ms)) return value;
  switch (format) {
    case "iso": return new Date(ms).toISOString();
    case "date": return new Date(ms).toISOString().slice(0, 10);
    // Rounded down, so the bound stays inclusive.
    case "unixSeconds": return String(Math.floor(ms / 1000));
    case "unixMillis": return String(ms);
  }
}

function parseBase(baseUrl: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError([`source "${name}": baseUrl: "${baseUrl}" is not a URL`]);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError([`source "${name}": baseUrl: expected http:// or https://, got ${url.protocol}`]);
  // A trailing slash, so endpoint paths resolve under the base path rather than beside it.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
