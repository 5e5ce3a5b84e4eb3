// The lake on Azure Storage (ADLS Gen2 in Azure, Azurite in tests). Data goes through the Blob endpoint,
// which every account and Azurite serve: conditional writes use ETags (If-Match / If-None-Match: *), a
// block blob becomes visible only when its block list commits, so readers see the old or the new object.
// Directory operations and ACLs, which only the DFS endpoint of a hierarchical-namespace account does,
// are in azure-dfs.ts behind this same class.

import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { BlobServiceClient, type ContainerClient, RestError } from "@azure/storage-blob";
import { LAKE_CONTAINERS } from "../declare/deployment.ts";
import { LakeCache, type LakeCacheOptions } from "./azure-cache.ts";
import { blobEndpointOf, credentialOf, type StorageConnection } from "./azure-connection.ts";
import { AzureDfs } from "./azure-dfs.ts";
import { type Lake, type LakeObject, PreconditionFailed, type Versioned, type WriteCondition } from "./lake.ts";

type Segment = keyof typeof LAKE_CONTAINERS;

export interface AzureLakeOptions {
  connection: StorageConnection;
  /** Container per first path segment. @default LAKE_CONTAINERS (bronze, silver, gold, state) */
  containers?: Readonly<Record<Segment, string>>;
  /** A folder inside every container, so several lakes can share an account (tests, environments). */
  root?: string;
  /** Local staging of objects for DuckDB. */
  cache?: LakeCacheOptions;
  /**
   * Upload block size: memory per upload is `blockSize * uploadConcurrency`.
   * @default 8 MiB
   */
  blockSize?: number;
  /** Blocks in flight per upload. @default 4 */
  uploadConcurrency?: number;
  /** Downloads in flight per `localFiles` call. @default 4 */
  downloadConcurrency?: number;
  /**
   * The account has a hierarchical namespace (ADLS Gen2): directory operations and ACLs go through the
   * DFS endpoint. @default true for an identity connection, false for a connection string (Azurite)
   */
  hierarchicalNamespace?: boolean;
  /** Create a missing container on first write (Azurite, laptops). In Azure, Pulumi creates them. @default true */
  createContainers?: boolean;
}

export class AzureLake implements Lake {
  readonly service: BlobServiceClient;
  readonly cache: LakeCache;
  readonly dfs: AzureDfs;
  private readonly containers: Readonly<Record<Segment, string>>;
  private readonly root: string;
  private readonly blockSize: number;
  private readonly uploadConcurrency: number;
  private readonly downloadConcurrency: number;
  private readonly createContainers: boolean;
  private readonly created = new Map<string, Promise<unknown>>();

  constructor(options: AzureLakeOptions) {
    const { connection } = options;
    if (connection.kind === "connectionString") {
      this.service = BlobServiceClient.fromConnectionString(connection.connectionString);
    } else {
      this.service = new BlobServiceClient(blobEndpointOf(connection), credentialOf(connection));
    }
    this.containers = options.containers ?? LAKE_CONTAINERS;
    this.root = (options.root ?? "").split("/").filter(Boolean).join("/");
    this.cache = new LakeCache(options.cache);
    this.blockSize = options.blockSize ?? 8 * 1024 * 1024;
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
    this.downloadConcurrency = options.downloadConcurrency ?? 4;
    this.createContainers = options.createContainers ?? true;
    const hns = options.hierarchicalNamespace ?? connection.kind === "identity";
    const sharedKey = connection.kind === "connectionString" ? sharedKeyOf(connection.connectionString) : undefined;
    this.dfs = new AzureDfs({
      blobEndpoint: this.service.url,
      hierarchicalNamespace: hns,
      credential: connection.kind === "identity" ? credentialOf(connection) : sharedKey,
    });
  }

  get location(): string {
    // The service URL without a query string: a SAS token never appears in messages.
    const url = new URL(this.service.url);
    url.search = "";
    return url.toString().replace(/\/+$/, "") + (this.root ? ` (root ${this.root})` : "");
  }

  async readJson<T>(path: string): Promise<Versioned<T> | undefined> {
    const found = await this.readText(path);
    return found && { value: JSON.parse(found.value) as T, etag: found.etag };
  }

  writeJson(path: string, value: unknown, condition: WriteCondition = {}): Promise<string> {
    return this.writeText(path, JSON.stringify(value, null, 2), condition);
  }

  async readText(path: string): Promise<Versioned<string> | undefined> {
    const { container, blob } = this.locate(path);
    try {
      const response = await container.getBlobClient(blob).download();
      return { value: await readAll(response.readableStreamBody!), etag: response.etag! };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async writeText(path: string, text: string, condition: WriteCondition = {}): Promise<string> {
    const { container, blob } = this.locate(path);
    const body = Buffer.from(text);
    const conditions =
      condition.ifMatch === null ? { ifNoneMatch: "*" } : condition.ifMatch !== undefined ? { ifMatch: condition.ifMatch } : {};
    const upload = () =>
      container.getBlockBlobClient(blob).upload(body, body.length, {
        conditions,
        blobHTTPHeaders: { blobContentType: contentTypeOf(path) },
      });
    try {
      const response = await this.withContainer(container, upload);
      return response.etag!;
    } catch (e) {
      // 412: the etag moved; 409: the object exists (If-None-Match: *); 404 with If-Match: it was deleted.
      if (e instanceof RestError && (e.statusCode === 412 || e.statusCode === 409)) throw new PreconditionFailed(path);
      if (condition.ifMatch && isNotFound(e)) throw new PreconditionFailed(path);
      throw e;
    }
  }

  async putFile(localFile: string, path: string): Promise<LakeObject> {
    const { container, blob } = this.locate(path);
    const { size } = await stat(localFile);
    // uploadStream stages blocks from a bounded buffer and commits the block list last: the blob appears
    // (or is replaced) whole, and memory stays at blockSize * uploadConcurrency whatever the file size.
    const response = await this.withContainer(container, () =>
      container
        .getBlockBlobClient(blob)
        .uploadStream(createReadStream(localFile, { highWaterMark: 1024 * 1024 }), this.blockSize, this.uploadConcurrency, {
          blobHTTPHeaders: { blobContentType: contentTypeOf(path) },
        }),
    );
    // The local lake moves the file into the lake; here it moves into the cache, so a later task on this
    // instance reads it without downloading it again.
    await this.cache.adopt(path, localFile, response.etag!).catch(() => rm(localFile, { force: true }));
    return { path, size };
  }

  async localFiles(paths: readonly string[]): Promise<string[]> {
    const result: string[] = new Array(paths.length);
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const i = next++;
        result[i] = await this.fetch(paths[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.downloadConcurrency, paths.length) }, worker));
    await this.cache.evict();
    return result;
  }

  get localRoot(): string {
    return this.cache.dir;
  }

  /** Unpin files returned by `localFiles`, so the cache may evict them. */
  async release(paths: readonly string[]): Promise<void> {
    for (const path of paths) this.cache.release(path);
    await this.cache.evict();
  }

  /** A view of this lake whose `localFiles` pins are all released by `close()` (one per task). */
  scope(): ScopedAzureLake {
    return new ScopedAzureLake(this);
  }

  async *list(prefix: string): AsyncIterable<LakeObject> {
    const parts = prefix.split("/").filter(Boolean);
    const segments = parts.length ? [parts[0] as Segment] : (Object.keys(this.containers) as Segment[]);
    for (const segment of segments) {
      const { container, blob } = this.locate([segment, ...parts.slice(1)].join("/"), true);
      const blobPrefix = blob ? `${blob}/` : "";
      const strip = this.root ? this.root.length + 1 : 0;
      try {
        for await (const item of container.listBlobsFlat({ prefix: blobPrefix, includeMetadata: true })) {
          // On a hierarchical-namespace account the Blob endpoint lists directories as empty marker blobs.
          if (item.metadata?.hdi_isfolder === "true") continue;
          yield {
            path: `${segment}/${item.name.slice(strip)}`,
            size: item.properties.contentLength ?? 0,
            modified: item.properties.lastModified?.getTime(),
          };
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async delete(path: string): Promise<void> {
    const { container, blob } = this.locate(path);
    try {
      await container.getBlobClient(blob).deleteIfExists();
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.cache.drop(path);
  }

  /**
   * Remove everything under a folder: one atomic directory delete on a hierarchical-namespace account,
   * blob by blob otherwise (Azurite).
   */
  async deletePrefix(prefix: string): Promise<void> {
    const { container, blob } = this.locate(prefix);
    if (this.dfs.hierarchicalNamespace) return this.dfs.deleteDirectory(container.containerName, blob);
    for await (const object of this.list(prefix)) await this.delete(object.path);
  }

  /** `abfss://` for an Azure account (DuckDB's azure extension, Spark, Synapse), the blob URL otherwise. */
  externalPath(path: string): string {
    const { container, blob } = this.locate(path);
    const url = new URL(container.url);
    const account = /^([a-z0-9]+)\.blob\.core\.windows\.net$/.exec(url.hostname);
    if (account) return `abfss://${container.containerName}@${account[1]}.dfs.core.windows.net/${blob}`;
    url.search = "";
    return `${url.toString().replace(/\/+$/, "")}/${blob}`;
  }

  /** Container and blob name of a lake path; the first segment picks the container. */
  locate(path: string, allowContainerOnly = false): { container: ContainerClient; blob: string } {
    const parts = path.split("/").filter(Boolean);
    if (parts.some((p) => p === "." || p === "..")) throw new Error(`lake path escapes the lake: ${path}`);
    const segment = parts[0] as Segment | undefined;
    const name = segment !== undefined && Object.hasOwn(this.containers, segment) ? this.containers[segment] : undefined;
    if (!name) {
      throw new Error(`lake path "${path}" must start with ${Object.keys(this.containers).map((s) => `${s}/`).join(", ")}`);
    }
    if (parts.length < 2 && !allowContainerOnly) throw new Error(`lake path "${path}" names a container, not an object`);
    const blob = [this.root, ...parts.slice(1)].filter(Boolean).join("/");
    return { container: this.service.getContainerClient(name), blob };
  }

  private async fetch(path: string): Promise<string> {
    const { container, blob } = this.locate(path);
    const cached = this.cache.etagOf(path);
    const client = container.getBlobClient(blob);
    try {
      // One request: 304 when the cached copy is current, otherwise the body streams to disk.
      const response = await client.download(0, undefined, cached ? { conditions: { ifNoneMatch: cached } } : {});
      const temp = await this.cache.tempFor(path);
      try {
        await pipeline(response.readableStreamBody!, createWriteStream(temp));
        await this.cache.adopt(path, temp, response.etag!);
      } finally {
        await rm(temp, { force: true });
      }
    } catch (e) {
      if (!(cached && e instanceof RestError && e.statusCode === 304)) {
        if (isNotFound(e)) throw new Error(`lake object ${path} does not exist (${this.location})`);
        throw e;
      }
    }
    this.cache.pin(path);
    return this.cache.fileFor(path);
  }

  private async withContainer<T>(container: ContainerClient, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      if (!this.createContainers || !(e instanceof RestError && e.code === "ContainerNotFound")) throw e;
      let creating = this.created.get(container.containerName);
      if (!creating) {
        creating = container.createIfNotExists();
        this.created.set(container.containerName, creating);
      }
      await creating;
      return body();
    }
  }
}

/** A task's view of an AzureLake: everything delegates; `close()` releases the files it staged. */
export class ScopedAzureLake implements Lake {
  private readonly pinned: string[] = [];
  constructor(readonly lake: AzureLake) {}
  get location(): string {
    return this.lake.location;
  }
  get localRoot(): string {
    return this.lake.localRoot;
  }
  readJson<T>(path: string): Promise<Versioned<T> | undefined> {
    return this.lake.readJson<T>(path);
  }
  writeJson(path: string, value: unknown, condition?: WriteCondition): Promise<string> {
    return this.lake.writeJson(path, value, condition);
  }
  readText(path: string): Promise<Versioned<string> | undefined> {
    return this.lake.readText(path);
  }
  writeText(path: string, text: string, condition?: WriteCondition): Promise<string> {
    return this.lake.writeText(path, text, condition);
  }
  putFile(localFile: string, path: string): Promise<LakeObject> {
    return this.lake.putFile(localFile, path);
  }
  async localFiles(paths: readonly string[]): Promise<string[]> {
    const files = await this.lake.localFiles(paths);
    this.pinned.push(...paths);
    return files;
  }
  async release(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const i = this.pinned.indexOf(path);
      if (i >= 0) this.pinned.splice(i, 1);
    }
    await this.lake.release(paths);
  }
  list(prefix: string): AsyncIterable<LakeObject> {
    return this.lake.list(prefix);
  }
  delete(path: string): Promise<void> {
    return this.lake.delete(path);
  }
  externalPath(path: string): string {
    return this.lake.externalPath(path);
  }
  async close(): Promise<void> {
    await this.lake.release(this.pinned.splice(0));
  }
}

function sharedKeyOf(connectionString: string): { accountName: string; accountKey: string } | undefined {
  const pairs = new Map(connectionString.split(";").map((kv) => [kv.slice(0, kv.indexOf("=")).toLowerCase(), kv.slice(kv.indexOf("=") + 1)]));
  const accountName = pairs.get("accountname");
  const accountKey = pairs.get("accountkey");
  return accountName && accountKey ? { accountName, accountKey } : undefined;
}

function isNotFound(e: unknown): boolean {
  return e instanceof RestError && e.statusCode === 404;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function contentTypeOf(path: string): string {
  if (path.endsWith(".parquet")) return "application/vnd.apache.parquet";
  if (path.endsWith(".json")) return "application/json";
  if (path.endsWith(".csv")) return "text/csv";
  if (path.endsWith(".html")) return "text/html; charset=utf-8";
  return "application/octet-stream";
}
