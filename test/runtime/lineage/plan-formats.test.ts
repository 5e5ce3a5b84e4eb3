// `mallard plan --format`: each format holds every stage and edge, with names quoted for the format.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PipelineGraph } from "../../../runtime/lineage/graph.ts";
import { formatPlan } from "../../../runtime/lineage/plan-formats.ts";

const graph: PipelineGraph = {
  name: 'shop "eu"',
  schedule: "0 0 * * * *",
  stages: [
    { name: "orders", kind: "bronze.table", layer: "bronze", inputs: [], views: {}, description: "shop:public.orders" },
    { name: "clean", kind: "silver.model", layer: "silver", inputs: ["orders"], views: { o: "orders" }, description: "from orders" },
    { name: "revenue", kind: "gold.model", layer: "gold", inputs: ["clean"], views: { clean: "clean" }, description: "from clean" },
  ],
};

describe("plan formats", () => {
  it("text lists the stages in execution order", () => {
    const lines = formatPlan(graph, "text").trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^\s+3\. revenue\s+gold\.model\s+from clean$/);
  });

  it("mermaid: a node per stage with its layer's class, an edge per input", () => {
    const text = formatPlan(graph, "mermaid");
    assert.match(text, /^flowchart LR\n/);
    assert.match(text, /s0\["orders<br\/><small>bronze\.table<\/small>"\]:::bronze/);
    assert.deepEqual(text.match(/s\d --> s\d/g), ["s0 --> s1", "s1 --> s2"]);
    assert.match(text, /classDef gold /);
  });

  it("dot: quoted names, one edge per input", () => {
    const text = formatPlan(graph, "dot");
    assert.match(text, /^digraph "shop \\"eu\\"" \{/);
    assert.deepEqual(text.match(/"\w+" -> "\w+"/g), ['"orders" -> "clean"', '"clean" -> "revenue"']);
  });

  it("json is the graph", () => {
    assert.deepEqual(JSON.parse(formatPlan(graph, "json")), graph);
  });
});
