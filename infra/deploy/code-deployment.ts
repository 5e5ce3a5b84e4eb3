// The function code as a Pulumi resource: deployed with OneDeploy when created, deployed again exactly
// when the bundle's hash (or the app's SCM site) changes, left alone otherwise.

import * as pulumi from "@pulumi/pulumi";
import { oneDeployProvider } from "./onedeploy.ts";

export interface CodeDeploymentArgs {
  /** SCM site of the app. @example "https://mallard-dev-3f9a1c.scm.azurewebsites.net" */
  scmUrl: pulumi.Input<string>;
  /** Absolute path of the bundle zip. */
  zipPath: pulumi.Input<string>;
  /** SHA-256 of the zip, hex. */
  zipHash: pulumi.Input<string>;
  /** Entra token for Azure Resource Manager; kept secret, never in outputs, ignored by diff. */
  token: pulumi.Input<string>;
  /** How long to retry while role assignments propagate. @default 600 */
  retryForSeconds?: number;
}

let warming: Promise<unknown> | undefined;

/**
 * Starts what the first serialization of the OneDeploy provider costs, so it overlaps the program's other
 * work (loading the pipeline, checking the bundle cache): Pulumi serializes a dynamic provider on every
 * preview, and its first serialization in a process loads Pulumi's closure serializer (and TypeScript) and
 * opens an inspector session, ~1 s of waiting; one that follows takes a third of that (measured). The
 * result is thrown away; a failure here is the resource's to report, so it is ignored.
 */
export function warmCodeDeployment(): void {
  warming ??= pulumi.runtime.serializeFunction(() => oneDeployProvider, { allowSecrets: true }).catch(() => undefined);
}

export class CodeDeployment extends pulumi.dynamic.Resource {
  // `declare`, not fields: a class field would overwrite the outputs the SDK installs in super().
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly zipHash: pulumi.Output<string>;
  declare readonly attempts: pulumi.Output<number>;
  declare readonly deployedAt: pulumi.Output<string>;

  constructor(name: string, args: CodeDeploymentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      oneDeployProvider,
      name,
      {
        scmUrl: args.scmUrl,
        zipPath: args.zipPath,
        zipHash: args.zipHash,
        token: pulumi.secret(args.token),
        retryForMs: (args.retryForSeconds ?? 600) * 1000,
        deploymentId: undefined,
        attempts: undefined,
        deployedAt: undefined,
      },
      opts,
      "mallard",
      "CodeDeployment",
    );
  }
}
