// A declared REST source turned into a connector: auth secrets resolved through the secret chain,
// durations into milliseconds.

import { durationSeconds } from "../../declare/duration.ts";
import type { RestSource } from "../../declare/rest.ts";
import type { SecretChain } from "../../secrets/secrets.ts";
import type { ResolvedAuth } from "./auth.ts";
import { createRestConnector, type RestConnector } from "./connector.ts";

export async function openRestSource(source: RestSource, secrets: SecretChain): Promise<RestConnector> {
  const where = `source "${source.name}"`;
  const auth = source.auth;
  let resolved: ResolvedAuth | undefined;
  if (auth?.kind === "apiKey") resolved = { ...auth, key: await secrets.resolve(auth.key, `${where}: auth.key`) };
  if (auth?.kind === "bearer") resolved = { ...auth, token: await secrets.resolve(auth.token, `${where}: auth.token`) };
  if (auth?.kind === "oauth2") {
    resolved = {
      ...auth,
      clientId: await secrets.resolve(auth.clientId, `${where}: auth.clientId`),
      clientSecret: await secrets.resolve(auth.clientSecret, `${where}: auth.clientSecret`),
    };
  }
  const ms = (d: Parameters<typeof durationSeconds>[0] | undefined) => (d === undefined ? undefined : durationSeconds(d) * 1000);
  return createRestConnector({
    name: source.name,
    baseUrl: source.baseUrl,
    auth: resolved,
    headers: source.headers,
    rateLimit: source.rateLimit && { limit: source.rateLimit.requests, intervalMs: ms(source.rateLimit.per)! },
    retry: {
      ...(source.retry?.attempts !== undefined ? { attempts: source.retry.attempts } : {}),
      ...(source.retry?.backoff !== undefined ? { backoffMs: ms(source.retry.backoff) } : {}),
      ...(source.retry?.maxWait !== undefined ? { maxWaitMs: ms(source.retry.maxWait) } : {}),
    },
    timeoutMs: ms(source.timeout),
  });
}
