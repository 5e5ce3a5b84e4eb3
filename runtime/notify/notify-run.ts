// After a run closes: work out its notices, resolve each webhook's URL through the secret chain (config,
// then Key Vault), and post every notice to every webhook that wants it, all at once, within the
// declared time bound. Whatever happens here is logged and swallowed: a notification never changes a
// run's status, its records or the exit code.

import type { NotifySettings, Webhook } from "../declare/notify.ts";
import type { Pipeline } from "../declare/pipeline.ts";
import { describeError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import { lakePath } from "../lake/lake.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import { RunRecords, type RunRecord } from "../state/run-records.ts";
import { deliver, type DeliveryOptions } from "./deliver.ts";
import { goldExpectations, type Notice, runNotices } from "./notices.ts";
import { payloadFor } from "./payloads.ts";

export interface NotifyContext {
  readonly pipeline: Pipeline;
  readonly lake: Lake;
  readonly secrets: SecretChain;
  /** Where outcomes are written; messages name the webhook, never its URL. */
  readonly log: (level: "info" | "warn", message: string) => void;
  /** Where a reader opens the run's report (an HTTPS link becomes the card's button). */
  readonly reportLink?: string;
  /** Tests shorten the backoff. */
  readonly delivery?: Pick<DeliveryOptions, "baseDelayMs" | "attemptTimeoutMs">;
}

export interface SentNotice {
  readonly webhook: string;
  readonly event: Notice["event"];
  readonly ok: boolean;
  readonly attempts: number;
  readonly reason?: string;
}

/** Earlier runs read to tell a crossing from a condition that persists. */
const EARLIER_RUNS = 5;

/** Send what a closed run has to say. Never throws. */
export async function notifyRunFinished(ctx: NotifyContext, run: RunRecord): Promise<SentNotice[]> {
  const settings = ctx.pipeline.notify;
  if (!settings?.webhooks.length || run.status === "running") return [];
  try {
    const notices = runNotices({
      pipeline: ctx.pipeline, run, reportLink: ctx.reportLink,
      earlier: await earlierRuns(ctx, run),
      goldCommits: await goldCommitTimes(ctx),
    });
    return await sendNotices(ctx, settings, notices);
  } catch (e) {
    ctx.log("warn", `notify: run ${run.runId}: notifications not sent: ${describeError(e)}`);
    return [];
  }
}

/** Post notices to the webhooks that want them. Never throws; each outcome is logged. */
export async function sendNotices(ctx: NotifyContext, settings: NotifySettings, notices: readonly Notice[]): Promise<SentNotice[]> {
  const sends: Promise<SentNotice>[] = [];
  for (const hook of settings.webhooks) {
    const wanted = notices.filter((n) => hook.on.includes(n.event));
    if (!wanted.length) continue;
    const url = resolveUrl(ctx, hook);
    for (const notice of wanted) sends.push(sendOne(ctx, settings, hook, url, notice));
  }
  return Promise.all(sends);
}

async function sendOne(ctx: NotifyContext, settings: NotifySettings, hook: Webhook, url: Promise<string>, notice: Notice): Promise<SentNotice> {
  const name = `webhook "${hook.name}" (${hook.format})`;
  let result: SentNotice;
  try {
    const delivery = await deliver(await url, payloadFor(hook.format, notice), { ...settings.retry, ...ctx.delivery });
    result = { webhook: hook.name, event: notice.event, ...delivery };
  } catch (e) {
    result = { webhook: hook.name, event: notice.event, ok: false, attempts: 0, reason: describeError(e) };
  }
  if (result.ok) ctx.log("info", `notify: ${notice.event} sent to ${name}${result.attempts > 1 ? ` after ${result.attempts} attempts` : ""}`);
  else ctx.log("warn", `notify: ${notice.event} not delivered to ${name}: ${result.reason}`);
  return result;
}

/**
 * The URL from the secret chain, checked: HTTPS, or plain HTTP only to this machine (a receiver in a test
 * or a local relay), since the URL is the key and would cross the network in clear.
 */
async function resolveUrl(ctx: NotifyContext, hook: Webhook): Promise<string> {
  const value = (await ctx.secrets.resolve(hook.url, `notify: webhook "${hook.name}"`)).trim();
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`secret "${hook.url.name}" is not a URL`);
  }
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw new Error(`secret "${hook.url.name}" is not an https:// URL (plain http is accepted only to localhost)`);
  }
  return value;
}

async function earlierRuns(ctx: NotifyContext, run: RunRecord): Promise<RunRecord[]> {
  const latest = await new RunRecords(ctx.lake).latest(ctx.pipeline.name, EARLIER_RUNS + 1);
  return latest.filter((r) => r.runId !== run.runId && r.runId < run.runId).slice(0, EARLIER_RUNS);
}

/** Commit times of each gold table with a freshness expectation, from its Delta log listing (no DuckDB). */
async function goldCommitTimes(ctx: NotifyContext): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>();
  const expected = goldExpectations(ctx.pipeline);
  if (!expected.size) return times;
  const [{ listLog, commitTimestamps }] = await Promise.all([import("../lake/delta/log-files.ts")]);
  for (const stage of expected.keys()) {
    const log = await listLog(ctx.lake, lakePath("gold", stage));
    times.set(stage, [...commitTimestamps(log).values()].sort((a, b) => a - b));
  }
  return times;
}
