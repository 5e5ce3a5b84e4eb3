// The YAML form of a REST source (`kind: rest` under `sources:`) and of an endpoint's fields in a
// `bronze:` entry (`endpoint: /orders`, …). Built with the same builders TypeScript uses.

import { z } from "zod";
import type { Duration } from "./duration.ts";
import type { Paginator, RestAuth, RestSource, SinceFormat } from "./rest.ts";
import { restSource } from "./rest.ts";
import { secret } from "./secret.ts";
import type { BronzeEndpointArgs, BronzeArgs } from "./stages.ts";
import { columns, duration } from "./yaml-fields.ts";

export const secretValue = z.union([z.string(), z.strictObject({ secret: z.string().regex(/^[A-Za-z0-9-]+$/, "letters, digits and dashes") })]);
const valueOf = (v: z.infer<typeof secretValue>) => (typeof v === "string" ? v : secret(v.secret));

export const restSourceSchema = z.strictObject({
  kind: z.literal("rest"),
  baseUrl: z.string(),
  auth: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("apiKey"), header: z.string(), key: secretValue }),
    z.strictObject({ kind: z.literal("bearer"), token: secretValue }),
    z.strictObject({
      kind: z.literal("oauth2"), tokenUrl: z.string(), clientId: secretValue, clientSecret: secretValue,
      scope: z.string().optional(), clientAuth: z.enum(["basic", "post"]).optional(),
    }),
  ]).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  rateLimit: z.strictObject({ requests: z.number().int().positive(), per: duration }).optional(),
  retry: z.strictObject({ attempts: z.number().int().positive().optional(), backoff: duration.optional(), maxWait: duration.optional() }).optional(),
  timeout: duration.optional(),
  chunkRows: z.number().int().positive().optional(),
});

export function restSourceFromYaml(name: string, s: z.infer<typeof restSourceSchema>): RestSource {
  const a = s.auth;
  const auth: RestAuth | undefined = !a ? undefined
    : a.kind === "apiKey" ? { kind: "apiKey", header: a.header, key: valueOf(a.key) }
    : a.kind === "bearer" ? { kind: "bearer", token: valueOf(a.token) }
    : { kind: "oauth2", tokenUrl: a.tokenUrl, clientId: valueOf(a.clientId), clientSecret: valueOf(a.clientSecret), scope: a.scope, clientAuth: a.clientAuth };
  return restSource(name, {
    baseUrl: s.baseUrl, auth, headers: s.headers, chunkRows: s.chunkRows,
    rateLimit: s.rateLimit && { requests: s.rateLimit.requests, per: s.rateLimit.per as Duration },
    retry: s.retry && { attempts: s.retry.attempts, backoff: s.retry.backoff as Duration | undefined, maxWait: s.retry.maxWait as Duration | undefined },
    timeout: s.timeout as Duration | undefined,
  });
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The fields of a `bronze:` entry that only an endpoint has (besides `endpoint:` itself). */
export const endpointFields = {
  endpoint: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  records: z.string().optional(),
  paginate: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("page"), param: z.string().optional(), start: z.number().int().optional(), sizeParam: z.string().optional(), size: z.number().int().positive().optional() }),
    z.strictObject({ kind: z.literal("offset"), offsetParam: z.string().optional(), limitParam: z.string().optional(), limit: z.number().int().positive() }),
    z.strictObject({ kind: z.literal("cursor"), field: z.string(), param: z.string() }),
    z.strictObject({ kind: z.literal("nextLink"), field: z.string() }),
    z.strictObject({ kind: z.literal("linkHeader"), rel: z.string().optional() }),
  ]).optional(),
  types: z.record(z.string(), z.string()).optional(),
  sample: z.number().int().min(0).optional(),
  parent: z.record(z.string(), z.string()).optional(),
  incremental: z.strictObject({
    cursor: columns, lookBack: duration.optional(),
    param: z.string().optional(), format: z.enum(["iso", "date", "unixSeconds", "unixMillis"]).optional(), ordered: z.boolean().optional(),
  }).optional(),
  deletes: z.union([z.literal("keyScan"), z.strictObject({ field: z.string(), equals: scalar })]).optional(),
};

/** Fields of a `table:` entry that are endpoint-only, for the message when they are misused. */
export const ENDPOINT_ONLY = ["params", "records", "paginate", "types", "sample", "parent"] as const;

type EndpointEntry = z.infer<z.ZodObject<typeof endpointFields>>;

/** `bronze.endpoint`'s arguments from a `bronze:` entry with `endpoint:`. */
export function endpointArgs(entry: EndpointEntry & { endpoint: string }, common: Omit<BronzeArgs, "incremental" | "deletes" | "partitions">): BronzeEndpointArgs {
  const inc = entry.incremental;
  return {
    ...common,
    path: entry.endpoint, params: entry.params, records: entry.records, paginate: entry.paginate as Paginator | undefined,
    types: entry.types, sample: entry.sample, parent: entry.parent, deletes: entry.deletes,
    incremental: inc && {
      cursor: inc.cursor, lookBack: inc.lookBack as Duration | undefined, param: inc.param, format: inc.format as SinceFormat | undefined, ordered: inc.ordered,
    },
  };
}
