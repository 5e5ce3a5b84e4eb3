// The Pulumi program: loads and checks the stack's pipeline declaration (`mallard:pipeline`), bundles the
// runtime with exactly that declaration, and deploys the resources its stages need together with the code,
// in one `pulumi up`. The steps: infra/program.ts; settings: infra/config.ts.

import { mallardProgram } from "./infra/program.ts";

const outputs = await mallardProgram();

export const resourceGroup = outputs.resourceGroup;
export const functionApp = outputs.functionApp;
export const functionUrl = outputs.functionUrl;
/** Start a run (POST) or read one (GET /api/runs/<id>); needs a function key. */
export const runsEndpoint = outputs.runsEndpoint;
export const lakeAccount = outputs.lakeAccount;
export const lakeDfsEndpoint = outputs.lakeDfsEndpoint;
export const keyVaultUrl = outputs.keyVaultUrl;
/** Where secrets managed outside Pulumi go: `az keyvault secret set --vault-name <keyVaultName> …`. */
export const keyVaultName = outputs.keyVaultName;
export const appInsights = outputs.appInsights;
export const taskQueue = outputs.taskQueue;
export const bundleHash = outputs.bundleHash;
export const deploymentId = outputs.deploymentId;
