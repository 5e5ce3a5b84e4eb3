// Source faults on the real PostgreSQL, through a local run of a one-table pipeline: the server refuses
// the connection, the connection is cut in the middle of the COPY (pg_terminate_backend from another
// session once the load committed its first chunk; the rows reach Mallard through a proxy that slows them
// down, so the COPY is still streaming then), the server's statement timeout cancels the COPY,
// the table is dropped, the cursor column is renamed. Each must fail with one line naming the stage (no
// stack, no password), leave bronze as it was or at a committed chunk with its checkpoint, and the run
// after the fault is repaired must leave bronze equal to the source, row for row.

import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { bronze, pipeline, secret, source } from "../../runtime/declare/index.ts";
import { Engine, queryRows } from "../../runtime/engine/engine.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { runLocal } from "../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../runtime/secrets/secrets.ts";
import { bronzeViews } from "../../runtime/stages/bronze-table/views.ts";
import { readBronzeTable } from "../../runtime/stages/bronze-table/state.ts";
import type { RunRecord } from "../../runtime/state/run-records.ts";
import { testPostgres } from "../helpers/pg.ts";
import { type ClassResult, classResult, tryCase } from "./report.ts";

const ROWS = 12_000;
/** Each row's padding: 12,000 rows are ~2.8 MB on the wire, a few seconds through the slow proxy. */
const PAD = 200;
const PASSWORD = "pw-source-fault-7f3a";

export async function sourceFaults(): Promise<ClassResult[]> {
  const server = await testPostgres({ kind: "server" });
  const admin = new pg.Client(server.url);
  await admin.connect();
  const work = await mkdtemp(join(tmpdir(), "mallard-source-"));
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [work] });
  const url = (extra = "") => {
    const u = new URL(server.url);
    u.password = PASSWORD; // trust auth ignores it; it must never be printed
    return `${u.toString()}${extra}`;
  };

  /** A scratch table `events` (and a view reading it slowly), a lake, and runs of a pipeline over one of them. */
  const bed = async (relation: "events" | "events_slow") => {
    const schema = await server.scratchSchema(admin, "faults");
    await admin.query(`
      CREATE TABLE ${schema}.events (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO ${schema}.events SELECT g, 'name ' || g || repeat('.', ${PAD}), timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${ROWS}) g;
      CREATE VIEW ${schema}.events_slow AS SELECT e.* FROM ${schema}.events e CROSS JOIN LATERAL (SELECT pg_sleep(0.0001 + 0 * e.id)) s;`);
    const src = source.postgres("src", { connection: secret("src-url"), chunkRows: 2_000 });
    const stage = bronze.table(src, { name: "events", table: `${schema}.${relation}`, primaryKey: "id", incremental: { cursor: ["updated_at", "id"] } });
    const p = pipeline("sourcefaults", { schedule: "0 0 * * * *", stages: [stage] });
    const lake = new LocalLake(join(work, schema));
    const run = (connection: string): Promise<RunRecord> => runLocal({
      pipeline: p, lake, projectRoot: work, trigger: "fault-suite",
      secrets: new SecretChain([new EnvSecretProvider({ [secretEnvName("src-url")]: connection })]),
    });
    /** Bronze's latest rows against the source table: undefined when equal. */
    const differs = async (): Promise<string | undefined> => {
      const { rows: [want] } = await admin.query(`SELECT count(*)::int AS n, sum(id)::bigint::text AS ids, md5(string_agg(name, ',' ORDER BY id)) AS names FROM ${schema}.events`);
      const got = await engine.withConnection(async (con) => {
        await bronzeViews.register(con, lake, "events_now", stage, { pipeline: p.name, stage: "fault-suite" });
        const [r] = await queryRows<{ n: bigint; ids: bigint; names: string }>(con, "SELECT count(*) AS n, sum(id) AS ids, md5(string_agg(name, ',' ORDER BY id)) AS names FROM events_now");
        return { n: Number(r.n), ids: String(r.ids), names: r.names };
      });
      return JSON.stringify(got) === JSON.stringify(want) ? undefined : `bronze holds ${JSON.stringify(got)}, the source ${JSON.stringify(want)}`;
    };
    /** The committed batches and checkpoint, to tell "nothing changed" from "something half-changed". */
    const state = async () => JSON.stringify((await engine.withConnection((con) => readBronzeTable(lake, con, p.name, stage))).state?.batches.map((b) => [b.loadId, b.rows, b.checkpointAfter]) ?? null);
    return { schema, lake, run, differs, state };
  };

  /** Why a failed run is not a clean failure, or undefined. */
  const cleanFailure = (record: RunRecord, expect: RegExp): string | undefined => {
    const task = record.tasks.events;
    if (record.status !== "failed" || task?.status !== "failed") return `run ${record.status}, task ${task?.status}: expected failed`;
    const error = task.error ?? "";
    if (/\n/.test(error)) return `error of several lines: ${JSON.stringify(error.slice(0, 300))}`;
    if (/\bat .*:\d+:\d+/.test(error)) return `error with a stack: ${error.slice(0, 300)}`;
    if (error.includes(PASSWORD)) return "the error prints the password";
    if (!expect.test(error)) return `error does not say what happened: ${error}`;
    return undefined;
  };

  const cases = [];
  try {
    cases.push(await tryCase("connection refused", async () => {
      const b = await bed("events");
      const refused = await b.run(url().replace(/:\d+\//, ":1/"));
      const unclean = cleanFailure(refused, /cannot connect to PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:1\/.*ECONNREFUSED/);
      if (unclean) return unclean;
      if ((await b.state()) !== "null") return "something was committed";
      const ok = await b.run(url());
      return ok.status !== "succeeded" ? `rerun ${ok.status}: ${ok.tasks.events?.error}` : b.differs();
    }));

    cases.push(await tryCase("connection reset in the middle of the COPY (after 1 MB of it: pg_terminate_backend, and the connection cut)", async () => {
      const b = await bed("events");
      const proxy = await slowProxy(new URL(server.url));
      const running = b.run(url().replace(/:\d+\//, `:${proxy.port}/`));
      let ended: unknown;
      void running.then((r) => (ended = r));
      while (proxy.forwarded() < 1_000_000 && ended === undefined) await new Promise((r) => setTimeout(r, 20));
      if (ended !== undefined) return "the load ended before 1 MB went through";
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE '%${b.schema}%' AND pid <> pg_backend_pid()`);
      proxy.cut();
      const record = await running;
      await proxy.close();
      const unclean = cleanFailure(record, /terminat|connection|ended|reset|closed/i);
      if (unclean) return unclean;
      // Whatever was committed before the cut is whole (its checkpoint with it): the rerun resumes from it.
      const ok = await b.run(url());
      return ok.status !== "succeeded" ? `rerun ${ok.status}: ${ok.tasks.events?.error}` : b.differs();
    }));

    cases.push(await tryCase("timeout: the server's statement_timeout cancels the COPY", async () => {
      const b = await bed("events_slow");
      const record = await b.run(url("?options=-c%20statement_timeout%3D300"));
      const unclean = cleanFailure(record, /statement timeout/);
      if (unclean) return unclean;
      if ((await b.state()) !== "null") return "something was committed";
      const ok = await b.run(url());
      return ok.status !== "succeeded" ? `rerun ${ok.status}: ${ok.tasks.events?.error}` : b.differs();
    }));

    cases.push(await tryCase("table dropped after a load", async () => {
      const b = await bed("events");
      const first = await b.run(url());
      if (first.status !== "succeeded") return `first load ${first.status}`;
      const before = await b.state();
      await admin.query(`ALTER TABLE ${b.schema}.events RENAME TO events_kept; DROP VIEW ${b.schema}.events_slow`);
      const record = await b.run(url());
      const unclean = cleanFailure(record, /"events" not found/);
      if (unclean) return unclean;
      if ((await b.state()) !== before) return "bronze changed";
      // The table comes back with new rows: the next run loads them.
      await admin.query(`ALTER TABLE ${b.schema}.events_kept RENAME TO events; INSERT INTO ${b.schema}.events VALUES (${ROWS + 1}, 'late', now())`);
      const ok = await b.run(url());
      return ok.status !== "succeeded" ? `rerun ${ok.status}: ${ok.tasks.events?.error}` : b.differs();
    }));

    cases.push(await tryCase("cursor column renamed after a load", async () => {
      const b = await bed("events");
      const first = await b.run(url());
      if (first.status !== "succeeded") return `first load ${first.status}`;
      const before = await b.state();
      await admin.query(`DROP VIEW ${b.schema}.events_slow; ALTER TABLE ${b.schema}.events RENAME COLUMN updated_at TO modified_at`);
      const record = await b.run(url());
      const unclean = cleanFailure(record, /updated_at/);
      if (unclean) return unclean;
      if ((await b.state()) !== before) return "bronze changed";
      await admin.query(`ALTER TABLE ${b.schema}.events RENAME COLUMN modified_at TO updated_at; UPDATE ${b.schema}.events SET name = 'renamed back', updated_at = now() WHERE id = 7`);
      const ok = await b.run(url());
      return ok.status !== "succeeded" ? `rerun ${ok.status}: ${ok.tasks.events?.error}` : b.differs();
    }));
  } finally {
    await engine.close();
    await admin.end();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
  return [classResult("source faults (PostgreSQL)", cases)];
}

/**
 * A TCP proxy to PostgreSQL that passes what the server sends in 16 KB pieces, one every 25 ms (about
 * 640 KB/s): a COPY of a few megabytes streams for seconds, long enough to be cut in the middle.
 */
async function slowProxy(target: URL): Promise<{ port: number; forwarded(): number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let forwarded = 0;
  const server: Server = createServer((client) => {
    const upstream = connectTcp(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      upstream.pause();
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += 16_384) pieces.push(chunk.subarray(i, i + 16_384));
      const next = () => {
        const piece = pieces.shift();
        if (!piece) return void upstream.resume();
        forwarded += piece.length;
        client.write(piece);
        setTimeout(next, 25);
      };
      next();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", () => setTimeout(end, 2_000));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwarded: () => forwarded,
    /** Reset every connection now. */
    cut: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
