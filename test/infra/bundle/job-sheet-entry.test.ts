// A job sheet deployed by the stack (`mallard:pipeline: jobs.xlsx`): the bundle's entry embeds the sheet's
// cells and its companion's text as data (no exceljs in the function), and the Functions host's
// `declarationFrom` turns that data into the pipeline the Pulumi program loaded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { entrySource } from "../../../infra/bundle/declaration.ts";
import { loadPipeline } from "../../../runtime/config/load-pipeline.ts";
import { declarationFrom } from "../../../runtime/declare/embedded.ts";
import type { DeclarationSource } from "../../../runtime/declare/load.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/job-sheet/", import.meta.url));

test("the job sheet is embedded as data and gives the same pipeline in the function", async () => {
  const loaded = await loadPipeline("jobs.xlsx", FIXTURES);
  const entry = await entrySource({ file: "jobs.xlsx", pipeline: loaded }, FIXTURES, "functions.ts");
  assert.doesNotMatch(entry, /\bimport\b.*(jobs\.xlsx|exceljs)/);
  const embedded = /startFunctions\((.*)\);$/m.exec(entry)?.[1];
  assert.ok(embedded, entry);
  const source = JSON.parse(embedded) as DeclarationSource;
  assert.equal(source.format, "jobsheet");
  const inFunction = declarationFrom(source);
  assert.deepEqual(inFunction.stages.map((s) => s.name), loaded.stages.map((s) => s.name));
  assert.deepEqual(JSON.parse(JSON.stringify(inFunction.stages.map((s) => (s.kind === "bronze.table" ? { ...s, source: s.source.name } : s.name)))),
    JSON.parse(JSON.stringify(loaded.stages.map((s) => (s.kind === "bronze.table" ? { ...s, source: s.source.name } : s.name)))));
});
