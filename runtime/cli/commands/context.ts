// What every command needs: the pipeline, the lake and the secret chain, from the common options.

import type { Pipeline } from "../../declare/pipeline.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import type { Lake } from "../../lake/lake.ts";
import { openLake } from "../../lake/open-lake.ts";
import { defaultSecretChain } from "../../secrets/default-chain.ts";
import type { SecretChain } from "../../secrets/secrets.ts";
import type { CommonOptions } from "../main.ts";

export interface CommandContext {
  readonly pipeline: Pipeline;
  readonly lake: Lake;
  readonly secrets: SecretChain;
  readonly projectRoot: string;
}

export async function commandContext(options: CommonOptions): Promise<CommandContext> {
  const projectRoot = options.projectDir;
  const pipeline = await loadPipeline(options.config, projectRoot);
  const lake = await openLake(options.lake);
  const secrets = await defaultSecretChain({ projectRoot, secretsFile: options.secretsFile });
  return { pipeline, lake, secrets, projectRoot };
}
