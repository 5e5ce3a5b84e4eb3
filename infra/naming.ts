// Names of Azure resources that must be globally unique (storage accounts, the vault, the app): the
// prefix, the stack and a stable hash of subscription/project/stack, so two stacks (or two subscriptions)
// never collide and the same stack always gets the same names: no random suffix to lose, and nothing
// that changes when the state moves to another backend or organisation.

import { createHash } from "node:crypto";

export interface NameContext {
  prefix: string;
  /** The Azure subscription id. */
  subscription: string;
  project: string;
  stack: string;
}

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/** Identity of a stack, as naming hashes it. */
const identity = (c: NameContext) => `${c.subscription}/${c.project}/${c.stack}`;

/** Lowercase letters and digits, at most 24: storage account names. @example "mallarddevlk3f9a1c" */
export function storageAccountName(c: NameContext, role: string): string {
  const stack = c.stack.toLowerCase().replace(/[^a-z0-9]/g, "");
  const suffix = hash(`${identity(c)}/${role}`, 6);
  return `${c.prefix}${stack}`.slice(0, 24 - role.length - suffix.length) + role + suffix;
}

/** Letters, digits and single dashes, 3–24, starting with a letter: Key Vault names. @example "mallard-dev-kv-3f9a1c" */
export function vaultName(c: NameContext): string {
  const suffix = hash(`${identity(c)}/kv`, 6);
  const stack = c.stack.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 24 - c.prefix.length - suffix.length - 5);
  return `${c.prefix}-${stack}-kv${suffix}`.replace(/--+/g, "-");
}

/** Letters, digits and dashes, at most 60: the Function App (also its host name). @example "mallard-dev-3f9a1c" */
export function appName(c: NameContext): string {
  const stack = c.stack.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40);
  return `${c.prefix}-${stack}-${hash(`${identity(c)}/app`, 6)}`.replace(/--+/g, "-");
}
