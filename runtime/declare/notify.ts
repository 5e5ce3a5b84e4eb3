// Notifications a pipeline sends when something needs a person: webhooks to Microsoft Teams (a Workflows
// "When a Teams webhook request is received" flow) and Slack (an incoming webhook). The URL is a secret:
// whoever holds it can post into the channel.

import { isSecretRef, type SecretRef } from "./secret.ts";

/**
 * What is worth a message:
 * - `run-failed`: a run failed or was abandoned (every such run);
 * - `warn-check`: a `warn` check's failing rows went above its threshold (`notifyAbove` on the check, else
 *   `warnAbove` here), in this run and not in the run before: a crossing, not every run it stays above;
 * - `stale-gold`: a gold table became older than its declared freshness (its freshness check's max age);
 * - `reconciliation-drift`: a bronze table's reconciliation found the lake no longer matches the source.
 */
export type NotifyEvent = "run-failed" | "warn-check" | "stale-gold" | "reconciliation-drift";

export const NOTIFY_EVENTS: readonly NotifyEvent[] = ["run-failed", "warn-check", "stale-gold", "reconciliation-drift"];

/**
 * - `teams`: an Adaptive Card in the message envelope that Teams Workflows (Power Automate) webhooks take;
 *   the Office 365 connectors that took the older MessageCard are retired (see docs/decisions.md).
 * - `slack`: Block Kit blocks with a `text` fallback, for a Slack incoming webhook.
 */
export type WebhookFormat = "teams" | "slack";

export interface WebhookArgs {
  /** Who receives it, for messages and logs (never the URL). @default the secret's name */
  name?: string;
  /** The secret holding the webhook URL. @example secret("teams-data-alerts-url") */
  url: SecretRef;
  /** @default every event (NOTIFY_EVENTS) */
  on?: readonly NotifyEvent[];
}

export interface Webhook {
  readonly kind: "webhook";
  readonly name: string;
  readonly format: WebhookFormat;
  readonly url: SecretRef;
  readonly on: readonly NotifyEvent[];
}

export interface WebhookRetry {
  /** Attempts per message, the first included. @default 5 */
  maxAttempts?: number;
  /** Time one message may take over all its attempts, waits included; a longer Retry-After gives up. @default 30 */
  totalSeconds?: number;
}

export interface NotifyArgs {
  webhooks: readonly Webhook[];
  /** A `warn` check notifies when its failing rows go above this (a check's own `notifyAbove` wins). @default 0 */
  warnAbove?: number;
  retry?: WebhookRetry;
}

export interface NotifySettings {
  readonly webhooks: readonly Webhook[];
  readonly warnAbove: number;
  readonly retry: Required<WebhookRetry>;
}

export const DEFAULT_WEBHOOK_RETRY: Required<WebhookRetry> = { maxAttempts: 5, totalSeconds: 30 };

function make(format: WebhookFormat, args: WebhookArgs): Webhook {
  return { kind: "webhook", format, name: args.name ?? args.url?.name, url: args.url, on: args.on ?? NOTIFY_EVENTS };
}

export const webhook = {
  /** A Teams channel through a Workflows webhook. @example webhook.teams({ url: secret("teams-alerts-url") }) */
  teams: (args: WebhookArgs): Webhook => make("teams", args),
  /** A Slack channel through an incoming webhook. @example webhook.slack({ url: secret("slack-alerts-url"), on: ["run-failed"] }) */
  slack: (args: WebhookArgs): Webhook => make("slack", args),
};

/** Settings with defaults filled in; undefined when nothing is declared. */
export function notifySettings(args: NotifyArgs | undefined): NotifySettings | undefined {
  if (!args) return undefined;
  return { webhooks: args.webhooks, warnAbove: args.warnAbove ?? 0, retry: { ...DEFAULT_WEBHOOK_RETRY, ...args.retry } };
}

/** Problems with a `notify` declaration, each naming the field. */
export function checkNotify(args: NotifyArgs | undefined): string[] {
  if (args === undefined) return [];
  const problems: string[] = [];
  if (!Array.isArray(args.webhooks)) return [`notify.webhooks: expected a list of webhook.teams(…) / webhook.slack(…)`];
  const names = new Set<string>();
  args.webhooks.forEach((hook, i) => {
    const at = `notify.webhooks[${i}]`;
    if (hook?.kind !== "webhook" || (hook.format !== "teams" && hook.format !== "slack")) {
      problems.push(`${at}: expected webhook.teams(…) or webhook.slack(…)`);
      return;
    }
    // A URL in the declaration would be committed to git: only a secret reference is accepted.
    if (!isSecretRef(hook.url)) problems.push(`${at}.url: expected secret("<name>") (a webhook URL is a credential and never sits in the declaration)`);
    else if (!/^[A-Za-z0-9-]+$/.test(hook.url.name)) problems.push(`${at}.url: secret name "${hook.url.name}" must hold only letters, digits and dashes (a Key Vault name)`);
    if (names.has(hook.name)) problems.push(`${at}.name: "${hook.name}" is used by two webhooks`);
    names.add(hook.name);
    if (!Array.isArray(hook.on) || hook.on.length === 0) problems.push(`${at}.on: expected one or more of ${NOTIFY_EVENTS.join(", ")}`);
    else for (const event of hook.on) if (!NOTIFY_EVENTS.includes(event)) problems.push(`${at}.on: unknown event "${event}" (expected ${NOTIFY_EVENTS.join(", ")})`);
  });
  if (args.warnAbove !== undefined && !(Number.isInteger(args.warnAbove) && args.warnAbove >= 0)) {
    problems.push(`notify.warnAbove: expected a whole number ≥ 0 of failing rows (got ${args.warnAbove})`);
  }
  const retry = args.retry;
  if (retry?.maxAttempts !== undefined && !(Number.isInteger(retry.maxAttempts) && retry.maxAttempts >= 1 && retry.maxAttempts <= 10)) {
    problems.push(`notify.retry.maxAttempts: expected a whole number from 1 to 10 (got ${retry.maxAttempts})`);
  }
  if (retry?.totalSeconds !== undefined && !(retry.totalSeconds > 0 && retry.totalSeconds <= 300)) {
    problems.push(`notify.retry.totalSeconds: expected more than 0 and at most 300 (got ${retry.totalSeconds})`);
  }
  return problems;
}
