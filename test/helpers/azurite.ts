// Starts a real Azurite (Blob + Queue, in memory, random ports) as a child process for a test file, and
// stops it afterwards. Tests talk to it through the same Azure SDK clients the runtime uses in Azure.

import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The well-known Azurite development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  /** A connection string with both endpoints, as `MALLARD_LAKE_CONNECTION_STRING` would hold. */
  readonly connectionString: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const START_TIMEOUT_MS = 90_000;

export interface AzuriteOptions {
  /** Serve HTTPS with this certificate and key (PEM files); needed for OAuth. */
  tls?: { cert: string; key: string };
  /** Accept bearer tokens (Azurite checks issuer, audience and expiry, not the signature). */
  oauth?: boolean;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const main = join(dirname(require.resolve("azurite/package.json")), "dist/src/azurite.js");
  const child = spawn(
    process.execPath,
    [
      main, "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
      "--blobPort", "0", "--queuePort", "0", "--tablePort", "0",
      ...(options.tls ? ["--cert", options.tls.cert, "--key", options.tls.key] : []),
      ...(options.oauth ? ["--oauth", "basic"] : []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], cwd: process.env.TMPDIR ?? "/tmp" },
  );
  const ports = await new Promise<{ blob: string; queue: string }>((resolve, reject) => {
    let out = "";
    const found: Record<string, string> = {};
    // Generous: on a loaded two-core machine Azurite's start can take tens of seconds. A child that did
    // not start is killed, so a failed start never leaves a process that keeps the test file alive.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Azurite did not start in ${START_TIMEOUT_MS / 1000} s:\n${out}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/Azurite (Blob|Queue) service is successfully listening at (https?:\/\/[\d.:]+)/g)) {
        found[m[1]] = m[2];
      }
      if (found.Blob && found.Queue) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ blob: found.Blob, queue: found.Queue });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${out}`));
    });
  });
  child.stderr?.resume();
  const blobEndpoint = `${ports.blob}/${AZURITE_ACCOUNT}`;
  const queueEndpoint = `${ports.queue}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    queueEndpoint,
    pid: child.pid!,
    connectionString:
      `DefaultEndpointsProtocol=${options.tls ? "https" : "http"};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};`,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
