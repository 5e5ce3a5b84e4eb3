// Where the value of each secret a pipeline references comes from. Either the stack's encrypted config
// holds it (`pulumi config set --secret <name> …`, or a Pulumi ESC environment the stack imports) and the
// program writes it to Key Vault, or it is managed outside Pulumi (`mallard:externalSecrets`) and the
// program only grants the app read access. A secret with neither is a warning naming the command, not an
// exception: a first `pulumi preview` and a pull request's preview still show the whole diff.

import type * as pulumi from "@pulumi/pulumi";
import type { SecretRef } from "../runtime/declare/index.ts";
import { secretConfigKey } from "./config.ts";
import type { VaultSecret } from "./secrets-vault.ts";

export interface StackSecrets {
  /** Secrets this stack writes to Key Vault, with their values from config. */
  stored: VaultSecret[];
  /** Secrets managed outside Pulumi: the app may read them, the stack never writes them. */
  external: string[];
  /** Secrets with no value and no setting; runs that need them fail until one is given. */
  missing: string[];
  /** What `pulumi preview` should say about them. */
  warnings: string[];
}

export function stackSecrets(
  needed: readonly SecretRef[],
  externalSetting: boolean | readonly string[],
  valueOf: (configKey: string) => pulumi.Output<string> | undefined,
  stack: string,
): StackSecrets {
  const result: StackSecrets = { stored: [], external: [], missing: [], warnings: [] };
  const isExternal = (name: string) => externalSetting === true || (Array.isArray(externalSetting) && externalSetting.includes(name));
  for (const { name } of needed) {
    const key = secretConfigKey(name);
    const value = valueOf(key);
    if (isExternal(name)) {
      result.external.push(name);
      if (value) result.warnings.push(`secret "${name}" is in mallard:externalSecrets, so its value in the stack's config (mallard:${key}) is not written to Key Vault; remove one of the two`);
    } else if (value) {
      result.stored.push({ name, value });
    } else {
      result.missing.push(name);
      result.warnings.push(
        `secret "${name}" has no value in stack "${stack}": set it with \`pulumi config set --secret ${key} '<value>'\`, ` +
          `or add it to mallard:externalSecrets if it is managed outside Pulumi (docs/deploy.md, "Secrets"); until then, runs that need it fail`,
      );
    }
  }
  if (Array.isArray(externalSetting)) {
    const names = new Set(needed.map((ref) => ref.name));
    for (const name of externalSetting.filter((n) => !names.has(n))) {
      result.warnings.push(`mallard:externalSecrets names "${name}", which no source of the pipeline references; it is ignored`);
    }
  }
  return result;
}
