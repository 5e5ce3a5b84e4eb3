// The files connector: a file pattern of a drop (a local folder or the lake's landing container) as a
// resource. `discover` lists the files that match and that the ledger does not hold, copies each into the
// engine's work folder and reads its columns; the schema is bronze's columns extended by the files'
// (unify.ts). `read` turns each file into Parquet with that schema, one file at a time, and yields chunks
// of at most `chunkRows` rows — small files grouped, a large file split — each carrying the ledger as it
// stands once the chunk is committed. A file that cannot be read is moved aside with its reason and the
// others go on.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import picomatch from "picomatch";
import type { FilesResource, FilesSource } from "../../declare/files.ts";
import type { Resource } from "../../declare/sources.ts";
import { durationSeconds } from "../../declare/duration.ts";
import { copyToParquet, type Engine, queryRows } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { SourceError } from "../../errors.ts";
import type { Lake } from "../../lake/lake.ts";
import type { Chunk, DiscoverContext, DiscoveredFile, FileLedger, ReadRequest, RejectedFile, ResourceSchema, SourceColumn, SourceConnector, SourceFile } from "../source.ts";
import { type Drop, openDrop } from "./drop.ts";
import { type FileColumn, relation, sniffFile } from "./formats.ts";
import { isLoaded, pruneLedger, record, rowsLoaded } from "./ledger.ts";
import { StagedFiles } from "./staged.ts";
import { unifyColumns } from "./unify.ts";
import { UnreadableFile, xlsxToCsv } from "./xlsx.ts";

/** A folder on disk is written in place, so a file waits until it has not changed for this long. */
const FOLDER_SETTLE_SECONDS = 30;

export class FilesConnector implements SourceConnector {
  private readonly drop: Drop;
  private readonly staged = new StagedFiles();

  constructor(private readonly source: FilesSource, lake: Lake | undefined) {
    this.drop = openDrop(source, lake);
  }

  get where(): string {
    return `source "${this.source.name}" (${this.drop.where})`;
  }

  async discover(resource: Resource, known?: readonly SourceColumn[], context?: DiscoverContext): Promise<ResourceSchema> {
    const files = this.filesOf(resource);
    if (!context) throw new SourceError(`${this.where}: reading ${files.pattern} needs the run's engine`);
    const listed = await this.list(files);
    const ledger = context.ledger && pruneLedger(context.ledger, listed);
    const settleSeconds = files.settle ? durationSeconds(files.settle) : this.source.folder !== undefined ? FOLDER_SETTLE_SECONDS : 0;
    const now = Date.now();
    const unloaded = listed.filter((f) => !(ledger && isLoaded(ledger, f)));
    const todo = unloaded
      .filter((f) => now - f.modified >= settleSeconds * 1000)
      .sort((a, b) => a.modified - b.modified || (a.path < b.path ? -1 : 1));
    let settling = unloaded.length - todo.length;
    const dir = await mkdtemp(join(context.engine.workDir, "drop-"));
    const found: DiscoveredFile[] = [];
    await context.engine.withConnection(async (con) => {
      for (const [i, file] of todo.entries()) {
        const local = join(dir, `${i}${extensionOf(file.path)}`);
        if (!(await this.drop.stage(file, local))) {
          await rm(local, { force: true });
          settling++;
          continue; // still being written: the next run takes it
        }
        const skip = ledger ? rowsLoaded(ledger, file) : 0;
        try {
          if (file.size === 0) {
            found.push({ ...file, columns: [] });
          } else if (files.format === "xlsx") {
            const csv = `${local}.csv`;
            const table = await xlsxToCsv(local, csv, files.worksheet);
            const columns = table.columns.map((c) => ({ name: c.name, type: files.types?.[c.name] ?? c.type }));
            const warnings = table.errors.map((e) => `file ${file.path}: column "${e.column}": ${e.count} ${e.issue}`);
            found.push({ ...file, columns, skip, ...(warnings.length ? { warnings } : {}) });
            await this.staged.keep(file, csv, local);
            continue;
          } else {
            found.push({ ...file, columns: await sniffFile(con, local, files), skip });
          }
        } catch (e) {
          found.push({ ...file, rejected: reasonOf(e, local, file) });
        }
        await this.staged.keep(file, local);
      }
    });
    // Loading new files, they fit bronze's columns; a full load is a new snapshot, typed by its files alone.
    const columns = unifyColumns(files.load === "incremental" ? known ?? [] : [], found.flatMap((f) => (f.columns ? [f.columns] : [])), files.types);
    return {
      label: `${this.drop.where}/${files.pattern}`,
      // What read needs of the resource travels with the schema: the address is for the connector only.
      address: [JSON.stringify(files)],
      columns,
      files: found,
      ledger,
      ...(settling ? { settling: { files: settling, seconds: settleSeconds } } : {}),
    };
  }

  async *read(request: ReadRequest, engine: Engine): AsyncIterable<Chunk> {
    const { schema } = request;
    const files = JSON.parse(schema.address[0]) as FilesResource;
    const dir = await mkdtemp(join(request.workDir, "files-"));
    const wanted = request.columns ? schema.columns.filter((c) => request.columns!.includes(c.name)) : schema.columns;
    let ledger: FileLedger | undefined = schema.ledger;
    let rejected: RejectedFile[] = [];
    let warnings: string[] = [];
    let group: { file: string; rows: number }[] = [];
    let grouped = 0;
    let seq = 0;
    const chunkRows = Math.max(1, request.chunkRows);
    const con = await engine.connect();

    /** The pending chunk: the files grouped so far as one Parquet file. */
    const take = async (): Promise<Chunk> => {
      let file = group[0]?.file ?? "";
      if (group.length > 1) {
        file = join(dir, `c${seq++}.parquet`);
        await copyToParquet(con, `SELECT * FROM read_parquet([${group.map((g) => quoteLiteral(g.file)).join(", ")}])`, file);
        await Promise.all(group.map((g) => rm(g.file, { force: true })));
      }
      const chunk: Chunk = { file, rows: grouped, bytes: 0, ledger, ...notes() };
      group = [];
      grouped = 0;
      return chunk;
    };
    const notes = () => {
      const out = { ...(rejected.length ? { rejected } : {}), ...(warnings.length ? { warnings } : {}) };
      rejected = [];
      warnings = [];
      return out;
    };

    try {
      for (const file of schema.files ?? []) {
        if (file.rejected !== undefined || !file.columns) {
          rejected.push(await this.reject(file, file.rejected ?? "unreadable"));
          continue;
        }
        const local = this.staged.take(file) ?? (await this.restage(file, files, dir));
        if (!local) continue; // changed since discover: the next run takes it
        const parquet = join(dir, `f${seq++}.parquet`);
        let rows: number;
        try {
          rows = await this.convert(con, local, parquet, file, files, wanted, schema.columns);
        } catch (e) {
          rejected.push(await this.reject(file, reasonOf(e, local, file), local));
          await rm(parquet, { force: true });
          continue;
        } finally {
          await rm(local, { force: true });
        }
        warnings.push(...(file.warnings ?? []));
        const skip = file.skip ?? 0;
        if (rows > chunkRows) {
          // A large file: the chunks before it, then its own, each moving the ledger to the rows it holds.
          if (grouped) yield* once(await take());
          for (let from = 0; from < rows; from += chunkRows) {
            const part = join(dir, `c${seq++}.parquet`);
            await copyToParquet(con, `SELECT * FROM read_parquet(${quoteLiteral(parquet)}) LIMIT ${chunkRows} OFFSET ${from}`, part);
            const n = Math.min(chunkRows, rows - from);
            if (ledger) ledger = record(ledger, file, skip + from + n, from + n >= rows);
            group = [{ file: part, rows: n }];
            grouped = n;
            yield* once(await take());
          }
          await rm(parquet, { force: true });
          continue;
        }
        if (grouped && grouped + rows > chunkRows) yield* once(await take());
        if (ledger) ledger = record(ledger, file, skip + rows, true);
        if (rows > 0) {
          group.push({ file: parquet, rows });
          grouped += rows;
        } else {
          await rm(parquet, { force: true });
        }
      }
      // The last chunk, or (nothing to load) the ledger and the notes alone as an empty chunk.
      if (grouped || ledger !== schema.ledger || rejected.length || warnings.length) yield* once(await take());
    } finally {
      con.closeSync();
      await rm(dir, { recursive: true, force: true });
      await this.staged.clear();
    }
  }

  /** Read one file into `parquet` with the schema's columns (those it lacks are NULL); its row count. */
  private async convert(
    con: Awaited<ReturnType<Engine["connect"]>>, local: string, parquet: string, file: DiscoveredFile, files: FilesResource,
    wanted: readonly SourceColumn[], columns: readonly SourceColumn[],
  ): Promise<number> {
    const typeOf = new Map(columns.map((c) => [c.name, c.duckType]));
    const own: FileColumn[] = (file.columns ?? []).map((c) => ({ name: c.name, type: typeOf.get(c.name) ?? c.type }));
    const has = new Set(own.map((c) => c.name));
    const select = wanted.map((c) => (has.has(c.name) ? `CAST(${quoteIdent(c.name)} AS ${c.duckType})` : `CAST(NULL AS ${c.duckType})`) + ` AS ${quoteIdent(c.name)}`);
    const from = file.size === 0 || own.length === 0 ? "(SELECT 1 WHERE false)" : relation(local, files, own);
    const skip = file.skip ? ` OFFSET ${file.skip}` : "";
    await copyToParquet(con, `SELECT ${select.join(", ") || "NULL AS _empty"} FROM ${from}${skip}`, parquet);
    const [row] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM read_parquet(${quoteLiteral(parquet)})`);
    return Number(row.n);
  }

  private async reject(file: DiscoveredFile, reason: string, staged?: string): Promise<RejectedFile> {
    try {
      return { path: file.path, reason, movedTo: await this.drop.reject(file, reason, staged ?? this.staged.take(file)) };
    } catch (e) {
      return { path: file.path, reason: `${reason} (and it could not be moved aside: ${(e as Error).message.split("\n")[0]})` };
    }
  }

  /** Copy a file again (discover could not keep it): for Excel, convert it again. */
  private async restage(file: DiscoveredFile, files: FilesResource, dir: string): Promise<string | undefined> {
    const local = join(dir, `r${Date.now()}${extensionOf(file.path)}`);
    await mkdir(dir, { recursive: true });
    if (!(await this.drop.stage(file, local))) return undefined;
    if (files.format !== "xlsx") return local;
    await xlsxToCsv(local, `${local}.csv`, files.worksheet);
    await rm(local, { force: true });
    return `${local}.csv`;
  }

  private filesOf(resource: Resource): FilesResource {
    if (resource.kind !== "files") throw new SourceError(`${this.where}: a file source serves file patterns, not a ${resource.kind}`);
    return resource;
  }

  /** The drop's files that match the pattern. */
  private async list(files: FilesResource): Promise<SourceFile[]> {
    const matches = picomatch(files.pattern, { dot: false });
    const listed: SourceFile[] = [];
    for await (const file of this.drop.list()) if (matches(file.path)) listed.push(file);
    return listed;
  }

  async close(): Promise<void> {
    await this.staged.clear();
  }
}

/** Yield a chunk, and remove its file once the consumer asks for the next (it has moved or copied it by then). */
async function* once(chunk: Chunk): AsyncGenerator<Chunk> {
  yield chunk;
  if (chunk.file) await rm(chunk.file, { force: true });
}

function extensionOf(path: string): string {
  return /\.[A-Za-z0-9]+$/.exec(path)?.[0] ?? "";
}

/** One line saying why a file cannot be read, with the staged copy's path replaced by the file's. */
function reasonOf(error: unknown, local: string, file: SourceFile): string {
  const message = (error as Error).message ?? String(error);
  if (error instanceof UnreadableFile) return message;
  if (/Error when sniffing file/.test(message)) {
    return "not CSV as declared: its lines do not all have the header's number of fields, or a quote is not closed (set csv.delimiter / csv.quote if the file uses others)";
  }
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  const csvLine = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const detail = lines.find((l) => /^Error when converting column|^Expected Number of Columns|^Value with unterminated quote|^Invalid unicode/.test(l));
  const first = lines[0].replace(/^(Conversion|Invalid Input|Binder|IO) Error: /, "");
  const text = csvLine ? `line ${csvLine}: ${detail ?? first.replace(/CSV Error on Line: \d+/, "").trim()}` : first;
  return text.split(local).join(file.path).replace(/\s*LINE \d+:.*$/, "");
}
