// A secret is referenced by name in a declaration and resolved at run time (env, local file, Key Vault).

export interface SecretRef {
  readonly kind: "secret";
  /** Secret name as stored in Key Vault: letters, digits and dashes. @example "shop-db-url" */
  readonly name: string;
}

/** Reference a secret by name; its value never appears in the declaration. */
export function secret(name: string): SecretRef {
  return { kind: "secret", name };
}

export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "secret";
}
