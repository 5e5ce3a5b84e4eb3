// `npm audit --omit=dev` cannot reach the registry's audit endpoint here, so the suite checks what runs it:
// the CI gate (.github/workflows/test.yml) audits what ships (dev tools excluded) at level high, after
// `npm ci` read the lock file and before anything is deployed (test/github/workflows.test.ts holds the
// rest of the gate's rules). The table says "checked in CI".

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { type ClassResult, classResult, tryCase } from "./report.ts";

export async function auditGate(root: string): Promise<ClassResult[]> {
  const outcome = await tryCase("the CI gate runs npm audit --omit=dev --audit-level=high after npm ci", async () => {
    const gate = parse(await readFile(join(root, ".github/workflows/test.yml"), "utf8")) as { jobs: Record<string, { steps?: { run?: string }[] }> };
    const runs = Object.values(gate.jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => (s.run ? [s.run.trim()] : [])));
    const audit = runs.indexOf("npm audit --omit=dev --audit-level=high");
    if (audit < 0) return "no audit step";
    if (!(runs.indexOf("npm ci --no-fund") >= 0 && runs.indexOf("npm ci --no-fund") < audit)) return "the audit runs before npm ci";
    return undefined;
  });
  return [classResult("npm audit --omit=dev (checked in CI)", [outcome])];
}
