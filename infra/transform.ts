// The `transform` option of every component, after SST: change what Mallard cannot foresee (a tag, a
// network rule) on any child without forking. Either an object merged over the args, or a function that
// edits args and options in place.

import type * as pulumi from "@pulumi/pulumi";

/**
 * @example { minimumTlsVersion: "TLS1_2" }
 * @example (args, opts) => { args.networkRuleSet = { defaultAction: "Deny" }; opts.protect = true; }
 */
export type Transform<Args> =
  | Partial<Args>
  | ((args: Args, opts: pulumi.CustomResourceOptions, name: string) => void);

/** Args and options after the user's transform. */
export function applyTransform<Args extends object>(
  transform: Transform<Args> | undefined,
  name: string,
  args: Args,
  opts: pulumi.CustomResourceOptions,
): [Args, pulumi.CustomResourceOptions] {
  if (transform === undefined) return [args, opts];
  if (typeof transform === "function") {
    transform(args, opts, name);
    return [args, opts];
  }
  return [{ ...args, ...transform }, opts];
}
