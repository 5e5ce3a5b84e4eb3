// startFunctions, in process (the bundle's fresh-process test is in test/infra/): the Functions app runs the
// load-time checks `mallard plan` runs from startup on, and no handler builds the runtime (or touches the
// lake) before they pass. Outside the host, @azure/functions registers nothing (its test mode), so the
// handlers are invoked directly, as the host would.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import functions from "@azure/functions";
import { startFunctions } from "../../../runtime/functions/index.ts";
import { ConfigError } from "../../../runtime/errors.ts";

const { HttpRequest, InvocationContext } = functions;
const context = () => new InvocationContext({ invocationId: "test", functionName: "test", logHandler: () => undefined });
const yaml = async (file: string) => ({ format: "yaml" as const, text: await readFile(file, "utf8"), shown: file });
// No lake, no queue: a handler that got past the checks would fail on these missing settings instead.
const noSettings = { MALLARD_PROJECT_ROOT: process.cwd() };

const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
  const [warn, error] = [console.warn, console.error];
  const printed: string[] = [];
  console.warn = console.error = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    return await fn();
  } finally {
    [console.warn, console.error] = [warn, error];
  }
};

test("registers the declared pipeline's functions by the host's names, one timer per table with its own schedule", async () => {
  const registered = async (fn: () => Promise<unknown>) => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
    try {
      await fn();
    } finally {
      console.warn = warn;
    }
    // Outside the host, @azure/functions says which function it would have registered.
    return warnings.flatMap((w) => /register function "([^"]+)"/.exec(w)?.[1] ?? []).sort();
  };
  const names = await registered(async () => {
    const app = startFunctions(await yaml("test/infra/fixtures/pipelines/invoices.yml"), noSettings);
    await app.checked;
  });
  assert.deepEqual(names, ["driver", "driver_invoice_lines", "executor", "poison", "run_report", "runs"]);
});

test("a declaration the checks refuse: every handler fails with the check's message, and the runtime is never built", async () => {
  const refused = "test/infra/fixtures/pipelines/refused.yml";
  await quietly(async () => {
    const app = startFunctions(await yaml(refused), noSettings);
    const checked = await app.checked.then(() => undefined, (e: unknown) => e);
    assert.ok(checked instanceof ConfigError);
    assert.match(checked.message, /^stage "invoices_with_customers": sql: reads "customers", which is not an input \(inputs: invoices\); add it to from$/);

    await assert.rejects(app.handlers.executor({ runId: "r", task: "invoices" }, context()), (e: Error) => e.message === checked.message);
    const response = await app.handlers.runs(new HttpRequest({ method: "GET", url: "http://localhost/api/runs" }), context());
    assert.equal(response.status, 400);
    assert.deepEqual(response.jsonBody, { error: checked.message });
  });
});

test("model and check SQL that reach past their inputs: startFunctions refuses with the CLI's problems, and no handler runs", async () => {
  await quietly(async () => {
    const app = startFunctions(await yaml("test/infra/fixtures/pipelines/reaches-out.yml"), noSettings);
    const checked = await app.checked.then(() => undefined, (e: unknown) => e);
    assert.ok(checked instanceof ConfigError);
    assert.equal(checked.problems.length, 9);
    assert.ok(checked.problems.includes('stage "secrets": sql: read_text() is refused: this SQL reads only its declared inputs (files come in through a source; table functions allowed: range, generate_series, unnest, json_each, json_tree)'));
    assert.ok(checked.problems.includes('stage "copy_out": sql: COPY is refused: this SQL is one SELECT over its declared inputs'));
    assert.ok(checked.problems.includes('stage "attach": sql: ATTACH is refused: this SQL is one SELECT over its declared inputs'));
    await assert.rejects(app.handlers.executor({ runId: "r", task: "secrets" }, context()), (e: Error) => e.message === checked.message);
  });
});

test("a declaration the checks accept: handlers go on to build the runtime from the app settings", async () => {
  await quietly(async () => {
    const app = startFunctions(await yaml("test/infra/fixtures/pipelines/invoices.yml"), noSettings);
    await app.checked;
    await assert.rejects(app.handlers.executor({ runId: "r", task: "invoices" }, context()), /app settings missing: MALLARD_LAKE_ACCOUNT/);
  });
});

test("a TypeScript declaration whose default export is not a pipeline is refused as the CLI refuses it", () => {
  assert.throws(
    () => startFunctions({ format: "module", module: { default: { name: "x" } }, shown: "configs/other.ts" }, noSettings),
    /^ConfigError: configs\/other\.ts: default export must be a pipeline/,
  );
});
