// Accuracy smoke test: the shipped fake_1000 declaration, trained unsupervised, scored against the
// labels. A floor below the benchmark's figure, so a regression in blocking, EM or scoring fails it.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { score } from "../../../bench/dedup/score.ts";
import { loadLabelled } from "../../../bench/dedup/load.ts";
import { parseDedupArgs } from "../../../runtime/declare/dedup.ts";
import { runDedup } from "../../../runtime/dedup/index.ts";
import { withDuckDB } from "./helpers.ts";

const data = "/work/shared/data/dedup/fake_1000.csv";

test("fake_1000: pairwise F1 > 0.85 and cluster F1 > 0.9, unsupervised", { skip: !existsSync(data) && "labelled data not present" }, async () => {
  await withDuckDB(async (con) => {
    await loadLabelled(con, data, "fake", "unique_id", "cluster");
    const { from: _from, ...spec } = parseDedupArgs("fake_1000", parseYaml(await readFile("configs/dedup/fake_1000.yml", "utf8")));
    const result = await runDedup(con, { input: "fake", spec, prefix: "f", keepIntermediate: true });
    const s = await score(con, "f", "fake_truth", "unique_id", 0.9, 0.99);
    assert.ok(s.blockingRecall > 0.9, `blocking recall ${s.blockingRecall}`);
    assert.ok(s.pairwise.f1 > 0.85, `pairwise F1 ${s.pairwise.f1}`);
    assert.ok(s.cluster.f1 > 0.9, `cluster F1 ${s.cluster.f1}`);
    // The estimated prior is within a factor 2 of the true share of matching pairs (2,031 / 499,500).
    const truePrior = 2031 / 499_500;
    assert.ok(result.params.prior > truePrior / 2 && result.params.prior < truePrior * 2, `prior ${result.params.prior}`);
  });
});
