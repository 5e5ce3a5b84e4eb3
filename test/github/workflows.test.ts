// The CI workflows, read as GitHub reads them (YAML): pull-request previews run with read-only identities
// and can never deploy; `pulumi up` runs on main only, after the test gate (`npm test`) passed; every job
// runs Node 22, as Azure does; and the gate runs the dependency audit. `npm audit` itself cannot be
// answered here (no registry audit endpoint), so the gate is tested by its configuration.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { parse } from "yaml";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const DIR = ".github/workflows";
const read = (file: string) => parse(readFileSync(`${DIR}/${file}`, "utf8")) as Workflow;
const preview = read("pulumi-preview.yml");
const up = read("pulumi-up-dev.yml");
const gate = read("test.yml");

/** Steps a job runs, those of a local reusable workflow it calls included. */
function stepsOf(job: Job): Step[] {
  if (job.uses?.startsWith("./.github/workflows/")) {
    const called = read(job.uses.slice("./.github/workflows/".length));
    return Object.values(called.jobs).flatMap(stepsOf);
  }
  return job.steps ?? [];
}
const runs = (job: Job) => stepsOf(job).flatMap((s) => (s.run ? [s.run.trim()] : []));
const pulumiStep = (job: Job) => stepsOf(job).find((s) => s.uses?.startsWith("pulumi/actions@"));
const needs = (job: Job) => (typeof job.needs === "string" ? [job.needs] : job.needs ?? []);
const environmentOf = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);
/** The job that calls the test gate. */
const gateJob = (w: Workflow) => Object.entries(w.jobs).find(([, job]) => job.uses === "./.github/workflows/test.yml")?.[0];

test("every workflow runs Node 22, as Azure Functions does", () => {
  for (const file of readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f))) {
    for (const [name, job] of Object.entries(read(file).jobs).filter(([, j]) => j.steps)) {
      const nodes = job.steps!.filter((s) => s.uses?.startsWith("actions/setup-node@"));
      assert.equal(nodes.length, 1, `${file}: job ${name} sets up Node`);
      assert.equal(String(nodes[0].with?.["node-version"]), "22", `${file}: job ${name}`);
    }
  }
});

test("the gate runs the dependency audit of what ships, the typecheck, `npm test` and the fault suite, with no credential", () => {
  assert.deepEqual(Object.keys(gate.on), ["workflow_call"]);
  const commands = runs(gate.jobs.test);
  const audit = commands.indexOf("npm audit --omit=dev --audit-level=high");
  assert.ok(audit >= 0, "npm audit --omit=dev --audit-level=high");
  assert.ok(commands.indexOf("npm ci --no-fund") < audit, "the audit reads the installed lock file");
  assert.ok(commands.includes("npm run typecheck"));
  assert.equal(commands.at(-1), "npm run test:faults", "the fault suite runs last");
  assert.equal(commands.at(-2), "npm test");
  assert.deepEqual(gate.permissions, { contents: "read" });
  assert.doesNotMatch(readFileSync(`${DIR}/test.yml`, "utf8"), /secrets\.|ARM_|PULUMI_ACCESS_TOKEN/);
});

test("both workflows call the gate and audit dependencies", () => {
  for (const w of [preview, up]) {
    assert.ok(gateJob(w), "calls .github/workflows/test.yml");
    assert.ok(Object.values(w.jobs).some((job) => runs(job).includes("npm audit --omit=dev --audit-level=high")));
  }
});

test("`pulumi up` runs on pushes to main only, after `npm test` passed, with the deploying identities of the dev environment", () => {
  assert.deepEqual(Object.keys(up.on).sort(), ["push", "workflow_dispatch"]);
  assert.deepEqual((up.on.push as { branches: string[] }).branches, ["main"]);
  const [name, job] = Object.entries(up.jobs).find(([, j]) => pulumiStep(j)?.with?.command === "up")!;
  assert.ok(needs(job).includes(gateJob(up)!), `${name} needs the test gate`);
  assert.equal(job.if, "github.ref == 'refs/heads/main'", "a manual run from another branch deploys nothing");
  assert.equal(environmentOf(job), "dev");
  assert.equal(job.env?.ARM_CLIENT_ID, "${{ vars.AZURE_CLIENT_ID }}");
  assert.equal(job.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
  assert.deepEqual(up.permissions, { contents: "read" });
  assert.deepEqual(job.permissions, { contents: "read", "id-token": "write" });
});

test("pull-request previews run with read-only identities and can never deploy", () => {
  assert.deepEqual(Object.keys(preview.on), ["pull_request"], "never pull_request_target, which would hand secrets to a fork's code");
  const jobs = Object.values(preview.jobs);
  assert.deepEqual(jobs.map((j) => pulumiStep(j)?.with?.command).filter(Boolean), ["preview"], "preview only, never up, refresh or destroy");
  for (const job of jobs) assert.equal(environmentOf(job), undefined, "the dev environment's deploying identities are out of reach");

  const job = jobs.find((j) => pulumiStep(j))!;
  assert.equal(job.env?.ARM_CLIENT_ID, "${{ vars.AZURE_PREVIEW_CLIENT_ID }}", "the Reader identity");
  assert.notEqual(job.env?.ARM_CLIENT_ID, up.jobs.up.env?.ARM_CLIENT_ID);
  assert.equal(job.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_PREVIEW_ACCESS_TOKEN }}", "a Stack Read token");
  assert.equal(pulumiStep(job)?.with?.refresh, false, "a refresh would write the state");
  assert.deepEqual(preview.permissions, { contents: "read" });
  const writes = Object.entries(job.permissions ?? {}).filter(([, level]) => level === "write").map(([scope]) => scope).sort();
  assert.deepEqual(writes, ["id-token", "pull-requests"], "only the OIDC token and the preview comment");
});
