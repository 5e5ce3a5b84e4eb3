// Source declarations: where bronze tables come from. Plain data; connectors live in runtime/sources.

import type { SecretRef } from "./secret.ts";

export interface PostgresSourceArgs {
  /**
   * Connection string, preferably a secret reference so the password never sits in code.
   * @example secret("shop-db-url")
   */
  connection: SecretRef | string;
  /** Rows per committed chunk during extraction; a killed run resumes after the last chunk. @default 1_000_000 */
  chunkRows?: number;
}

export interface PostgresSource {
  readonly kind: "postgres";
  readonly name: string;
  readonly connection: SecretRef | string;
  readonly chunkRows?: number;
}

export type Source = PostgresSource;

export const source = {
  /** A PostgreSQL database (also anything that speaks its wire protocol and COPY). */
  postgres(name: string, args: PostgresSourceArgs): PostgresSource {
    return { kind: "postgres", name, connection: args.connection, chunkRows: args.chunkRows };
  },
};
