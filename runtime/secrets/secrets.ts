// Secrets are resolved by name through a chain of providers: environment, local secrets file, then
// Key Vault when a vault URL is configured. Values are never logged; errors name only the secret.

import { readFile } from "node:fs/promises";
import { isSecretRef, type SecretRef } from "../declare/secret.ts";
import { ConfigError } from "../errors.ts";

export interface SecretProvider {
  /** For messages: "environment", "secrets file .mallard/secrets.json", "Key Vault https://…". */
  readonly description: string;
  /** The secret's value, or undefined when this provider does not have it. */
  get(name: string): Promise<string | undefined>;
}

/** `shop-db-url` → `MALLARD_SECRET_SHOP_DB_URL`. */
export function secretEnvName(name: string): string {
  return `MALLARD_SECRET_${name.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`;
}

export class EnvSecretProvider implements SecretProvider {
  readonly description = "environment (MALLARD_SECRET_<NAME>)";
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}
  async get(name: string): Promise<string | undefined> {
    return this.env[secretEnvName(name)] || undefined;
  }
}

/** A JSON file `{ "shop-db-url": "postgres://…" }` that git ignores. */
export class FileSecretProvider implements SecretProvider {
  private values?: Promise<Record<string, string>>;
  constructor(private readonly path: string) {}
  get description(): string {
    return `secrets file ${this.path}`;
  }
  async get(name: string): Promise<string | undefined> {
    this.values ??= readFile(this.path, "utf8").then(
      (text) => {
        try {
          return JSON.parse(text) as Record<string, string>;
        } catch {
          // The parser's message quotes the text around the error, which is a secret: say only where.
          throw new ConfigError([`${this.path}: not valid JSON (expected { "secret-name": "value", … })`]);
        }
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return {};
        throw new ConfigError([`${this.path}: cannot read secrets file (${e.code ?? e.message})`]);
      },
    );
    return (await this.values)[name];
  }
}

export class SecretChain {
  constructor(readonly providers: readonly SecretProvider[]) {}

  /** A plain string is a literal value (e.g. a password-less local URL); a SecretRef is looked up. */
  async resolve(value: SecretRef | string, where: string): Promise<string> {
    if (!isSecretRef(value)) return value;
    for (const provider of this.providers) {
      const found = await provider.get(value.name);
      if (found !== undefined) return found;
    }
    throw new ConfigError([
      `${where}: secret "${value.name}" not found (looked in: ${this.providers.map((p) => p.description).join("; ")})`,
    ]);
  }
}
