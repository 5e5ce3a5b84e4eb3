// OneDeploy to a Flex Consumption app: POST the zip to `<scm>/api/publish`, then follow the deployment
// until it finishes, retrying while the app's new role assignments propagate.
//
// Pulumi serializes a dynamic provider into the state and runs it in another process, so this module is
// self-contained: no value imports at module scope (Node modules are imported inside the functions), no
// captured secrets, only global `fetch`.

import type * as pulumi from "@pulumi/pulumi";

/** What the provider receives: plain values, already resolved. */
export interface OneDeployInputs {
  /** SCM site of the app. @example "https://mallard-dev-3f9a1c.scm.azurewebsites.net" */
  scmUrl: string;
  /** Absolute path of the zip built by the bundle step. */
  zipPath: string;
  /** SHA-256 (hex) of the zip; a new hash is a new deployment, the same hash is nothing to do. */
  zipHash: string;
  /** Entra access token for Azure Resource Manager (the audience the SCM site accepts). */
  token: string;
  /** How long to keep retrying retryable failures (403, BlobUploadFailedException, 409, 5xx). */
  retryForMs: number;
  /** First wait between retries; doubles up to `maxDelayMs`. @default 2000 */
  initialDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  /** Wait between status polls. @default 2000 */
  pollIntervalMs?: number;
  /** How long a deployment may run once accepted. @default 900000 (15 minutes) */
  deploymentTimeoutMs?: number;
  /** Shown in the app's deployment history. @default "mallard" */
  deployer?: string;
}

/** What the state keeps (never the token). */
export interface OneDeployOutputs {
  scmUrl: string;
  zipHash: string;
  deploymentId: string;
  /** Publish attempts it took, retries included. */
  attempts: number;
  deployedAt: string;
}

/** Kudu's deployment status codes. */
const KUDU = { failed: 3, success: 4, conflict: 5, partialSuccess: 6 } as const;

interface PublishOutcome {
  kind: "accepted" | "retry" | "fail";
  deploymentId?: string;
  /** A status the publish answer already carried (Flex answers 200 with the outcome in the body). */
  status?: DeploymentStatus;
  reason: string;
}

interface DeploymentStatus {
  status?: number;
  complete?: boolean;
  status_text?: string;
  message?: string;
  id?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Why a publish answer should be retried, or undefined when it should not. */
export function retryReason(httpStatus: number, body: string): string | undefined {
  if (/BlobUploadFailedException/i.test(body)) {
    return "the app cannot write its deployment storage yet (BlobUploadFailedException; its role assignment is still propagating)";
  }
  if (httpStatus === 403) return "the SCM site refused the token (403; new role assignments or access rules still propagating)";
  if (httpStatus === 409) return "another deployment is in progress (409)";
  if (httpStatus === 429) return "throttled (429)";
  if (httpStatus >= 500) return `the SCM site answered ${httpStatus}`;
  return undefined;
}

/** Reads the answer of `POST /api/publish`. */
export function classifyPublish(httpStatus: number, body: string): PublishOutcome {
  const retry = retryReason(httpStatus, body);
  if (retry) return { kind: "retry", reason: retry };
  if (httpStatus < 200 || httpStatus >= 300) {
    return { kind: "fail", reason: `publish answered ${httpStatus}: ${body.slice(0, 500)}` };
  }
  const text = body.trim();
  if (!text) return { kind: "accepted", reason: "accepted" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "accepted", deploymentId: text, reason: "accepted" };
  }
  if (typeof parsed === "string") return { kind: "accepted", deploymentId: parsed, reason: "accepted" };
  if (parsed && typeof parsed === "object") {
    const status = parsed as DeploymentStatus;
    return { kind: "accepted", deploymentId: status.id, status, reason: "accepted" };
  }
  return { kind: "accepted", reason: "accepted" };
}

/** Whether a deployment status is final, and how it ended. */
export function deploymentResult(status: DeploymentStatus): "running" | "succeeded" | "failed" {
  if (status.status === KUDU.success) return "succeeded";
  if (status.status === KUDU.failed || status.status === KUDU.conflict || status.status === KUDU.partialSuccess) return "failed";
  if (status.complete === true) return "failed";
  return "running";
}

/**
 * Publishes the zip and waits for the deployment to finish. Retries the publish while the answer says
 * the app's permissions are still propagating; fails at once on anything a retry cannot fix.
 */
export async function oneDeploy(inputs: OneDeployInputs): Promise<OneDeployOutputs> {
  const { readFile } = await import("node:fs/promises");
  const { createHash } = await import("node:crypto");
  const zip = await readFile(inputs.zipPath).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`code deployment: cannot read the bundle ${inputs.zipPath} (${error.code ?? error.message}); run \`pulumi up\` again to rebuild it`);
  });
  const actualHash = createHash("sha256").update(zip).digest("hex");
  if (actualHash !== inputs.zipHash) {
    throw new Error(`code deployment: ${inputs.zipPath} has hash ${actualHash}, expected ${inputs.zipHash}; the bundle changed after it was built`);
  }

  const base = inputs.scmUrl.replace(/\/+$/, "");
  const deadline = Date.now() + inputs.retryForMs;
  const maxDelay = inputs.maxDelayMs ?? 30_000;
  let delay = inputs.initialDelayMs ?? 2_000;
  const headers = { Authorization: `Bearer ${inputs.token}` };
  const publishUrl = `${base}/api/publish?RemoteBuild=false&Deployer=${encodeURIComponent(inputs.deployer ?? "mallard")}`;
  const reasons: string[] = [];

  for (let attempt = 1; ; attempt++) {
    let outcome: PublishOutcome;
    try {
      const response = await fetch(publishUrl, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/zip", "Cache-Control": "no-cache" },
        body: new Uint8Array(zip),
      });
      outcome = classifyPublish(response.status, await response.text());
    } catch (error) {
      outcome = { kind: "retry", reason: `cannot reach ${base} (${(error as Error).message})` };
    }

    if (outcome.kind === "accepted") {
      const final = await followDeployment(base, headers, outcome, inputs);
      if (final.result === "succeeded") {
        return { scmUrl: inputs.scmUrl, zipHash: inputs.zipHash, deploymentId: final.id, attempts: attempt, deployedAt: new Date().toISOString() };
      }
      const retry = retryReason(200, final.detail);
      if (!retry) throw new Error(`code deployment ${final.id} failed: ${final.detail}`);
      outcome = { kind: "retry", reason: retry };
    }
    if (outcome.kind === "fail") throw new Error(`code deployment failed: ${outcome.reason}`);

    reasons.push(`attempt ${attempt}: ${outcome.reason}`);
    if (Date.now() + delay > deadline) {
      throw new Error(`code deployment gave up after ${attempt} attempts over ${Math.round(inputs.retryForMs / 1000)} s:\n  ${reasons.join("\n  ")}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** Polls the deployment until it is final; its log explains a failure. */
async function followDeployment(
  base: string,
  headers: Record<string, string>,
  accepted: PublishOutcome,
  inputs: OneDeployInputs,
): Promise<{ result: "succeeded" | "failed"; id: string; detail: string }> {
  const id = accepted.deploymentId ?? accepted.status?.id ?? "latest";
  const deadline = Date.now() + (inputs.deploymentTimeoutMs ?? 900_000);
  let status = accepted.status;
  for (let polls = 0; !status || deploymentResult(status) === "running"; polls++) {
    if (Date.now() > deadline) throw new Error(`code deployment ${id} did not finish in ${Math.round((inputs.deploymentTimeoutMs ?? 900_000) / 1000)} s`);
    if (polls > 0 || status) await sleep(inputs.pollIntervalMs ?? 2_000);
    // 404 until the record exists, 403 while permissions settle, 5xx while the site warms: poll on.
    const response = await fetch(`${base}/api/deployments/${encodeURIComponent(id)}`, { headers }).catch(() => undefined);
    if (response?.ok) status = (await response.json()) as DeploymentStatus;
  }
  const result = deploymentResult(status) as "succeeded" | "failed";
  const realId = status.id ?? id;
  if (result === "succeeded") return { result, id: realId, detail: status.status_text ?? "" };
  const log = await fetch(`${base}/api/deployments/${encodeURIComponent(realId)}/log`, { headers })
    .then((r) => (r.ok ? r.text() : ""))
    .catch(() => "");
  const detail = [status.status_text, status.message, log].filter(Boolean).join("\n").slice(0, 4000);
  return { result, id: realId, detail: detail || `status ${status.status}` };
}

/** The dynamic provider: deploys on create and on update; a changed hash or SCM site is an update. */
export const oneDeployProvider: pulumi.dynamic.ResourceProvider<OneDeployInputs, OneDeployOutputs> = {
  async check(_olds, news) {
    const failures: { property: string; reason: string }[] = [];
    for (const key of ["scmUrl", "zipPath", "zipHash", "token"] as const) {
      if (typeof news[key] !== "string" || news[key] === "") failures.push({ property: key, reason: `${key} is required` });
    }
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const replaces: string[] = [];
    const changes = olds.zipHash !== news.zipHash || olds.scmUrl !== news.scmUrl;
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const outs = await oneDeploy(inputs);
    return { id: `${inputs.scmUrl}#code`, outs };
  },
  async update(_id, _olds, news) {
    return { outs: await oneDeploy(news) };
  },
  async delete() {
    // Deleting the app deletes its code; a deployment has nothing of its own to remove.
  },
};
