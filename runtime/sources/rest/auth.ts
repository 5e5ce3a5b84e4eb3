// Authentication of a REST source's requests: an API-key header, a bearer token, or an OAuth 2.0 client
// credentials token that is renewed before it expires and again when the API answers 401 (a token
// revoked early). Secret values come resolved from the secret chain and appear in no message.

import * as oauth from "oauth4webapi";
import type { RestAuth } from "../../declare/rest.ts";
import { SourceError } from "../../errors.ts";

/** Auth with its secrets resolved. */
export type ResolvedAuth =
  | { readonly kind: "apiKey"; readonly header: string; readonly key: string }
  | { readonly kind: "bearer"; readonly token: string }
  | {
      readonly kind: "oauth2"; readonly tokenUrl: string; readonly clientId: string; readonly clientSecret: string;
      readonly scope?: string; readonly clientAuth?: "basic" | "post";
    };

export interface Authenticator {
  /** Headers for the next request. */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /** The API refused the credentials (401): true when new ones are worth one more attempt. */
  refused(): boolean;
}

/** Renew a token this long before the expiry the server gave, so no request carries an expired one. */
const EXPIRY_MARGIN_MS = 30_000;

export function authenticator(auth: ResolvedAuth | undefined, where: string, fetcher: typeof fetch = fetch): Authenticator {
  if (!auth) return { headers: async () => ({}), refused: () => false };
  switch (auth.kind) {
    case "apiKey":
      return { headers: async () => ({ [auth.header]: auth.key }), refused: () => false };
    case "bearer":
      return { headers: async () => ({ authorization: `Bearer ${auth.token}` }), refused: () => false };
    case "oauth2":
      return new ClientCredentials(auth, where, fetcher);
  }
}

class ClientCredentials implements Authenticator {
  private token: Promise<{ value: string; renewAt: number }> | undefined;
  /** Whether the current token has already been refused once (a second 401 is not the token's age). */
  private renewedAfterRefusal = false;

  constructor(
    private readonly auth: Extract<ResolvedAuth, { kind: "oauth2" }>,
    private readonly where: string,
    private readonly fetcher: typeof fetch,
  ) {}

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    let current = this.token && (await this.token.catch(() => undefined));
    if (!current || Date.now() >= current.renewAt) {
      this.token = this.request(signal);
      current = await this.token;
    }
    return { authorization: `Bearer ${current.value}` };
  }

  refused(): boolean {
    if (this.renewedAfterRefusal) return false;
    this.renewedAfterRefusal = true;
    this.token = undefined;
    return true;
  }

  private async request(signal?: AbortSignal): Promise<{ value: string; renewAt: number }> {
    const url = new URL(this.auth.tokenUrl);
    const server: oauth.AuthorizationServer = { issuer: url.origin, token_endpoint: url.href };
    const client: oauth.Client = { client_id: this.auth.clientId };
    const clientAuth = this.auth.clientAuth === "post" ? oauth.ClientSecretPost(this.auth.clientSecret) : oauth.ClientSecretBasic(this.auth.clientSecret);
    const started = Date.now();
    try {
      const response = await oauth.clientCredentialsGrantRequest(server, client, clientAuth, this.auth.scope ? { scope: this.auth.scope } : {}, {
        signal,
        [oauth.customFetch]: this.fetcher,
        // Plain http only reaches a token endpoint on this machine (refused elsewhere when the source opens).
        [oauth.allowInsecureRequests]: url.protocol === "http:",
      });
      const token = await oauth.processClientCredentialsResponse(server, client, response);
      const lifetime = token.expires_in === undefined ? 3600_000 : token.expires_in * 1000;
      this.renewedAfterRefusal = false;
      return { value: token.access_token, renewAt: started + Math.max(0, lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 2)) };
    } catch (error) {
      throw new SourceError(`${this.where}: OAuth token request to ${url.origin}${url.pathname} failed: ${tokenFailure(error)}`);
    }
  }
}

/** What went wrong at the token endpoint, in one line and without the request's credentials. */
function tokenFailure(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.status} ${error.error}${error.error_description ? ` (${error.error_description})` : ""}`;
  if (error instanceof Error) return error.message.split("\n")[0];
  return String(error);
}
