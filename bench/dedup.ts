// Dedup benchmark: accuracy and speed on Splink's labelled data sets and a synthetic 1,000,000-record
// set, or on any labelled file with a YAML declaration. The last line printed is one JSON object.
//
//   npm run bench:dedup
//   npm run bench:dedup -- --only febrl3 --skip-synthetic
//   npm run bench:dedup -- --config configs/dedup/febrl3.yml --data febrl3.csv --truth-column "regexp_extract(rec_id, '^rec-(\d+)', 1)"

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse as parseYaml } from "yaml";
import { parseDedupArgs } from "../runtime/declare/dedup.ts";
import { dedupDefaults } from "../runtime/declare/dedup.ts";
import { runDedup } from "../runtime/dedup/index.ts";
import { loadLabelled } from "./dedup/load.ts";
import { phaseSeconds, score, seconds, type Scores } from "./dedup/score.ts";
import { runSynthetic, type SyntheticFigures } from "./dedup/synthetic.ts";

const DATA = "/work/shared/data/dedup";
const sets = [
  { name: "fake_1000", data: `${DATA}/fake_1000.csv`, config: "configs/dedup/fake_1000.yml", truth: "cluster" },
  {
    name: "febrl3",
    data: `${DATA}/febrl3.csv`,
    config: "configs/dedup/febrl3.yml",
    truth: "regexp_extract(rec_id, '^rec-(\\d+)', 1)",
  },
  {
    name: "historical_50k",
    data: `${DATA}/historical_50k.parquet`,
    config: "configs/dedup/historical_50k.yml",
    truth: "cluster",
  },
];

interface SetFigures extends Scores {
  records: number;
  seconds: { load: number; train: number; predict: number; cluster: number; total: number; cpu: number };
  prior: number;
  trainingSessions: { rule: string; lambda: number; recall: number; iterations: number }[];
}

async function runLabelled(name: string, data: string, config: string, truth: string, threads: number): Promise<SetFigures> {
  const raw: unknown = parseYaml(await readFile(config, "utf8"));
  const args = parseDedupArgs(name, raw);
  const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
  const con = await instance.connect();
  try {
    const t0 = performance.now();
    const records = await loadLabelled(con, data, "input", args.id, truth);
    const load = performance.now() - t0;
    const { from: _from, ...spec } = args;
    // CPU time (all DuckDB threads are in this process) is the figure to compare when the machine is
    // shared: wall time stretches with other people's load, CPU time much less.
    const cpu0 = process.cpuUsage();
    const result = await runDedup(con, { input: "input", spec, prefix: "bench", stage: name, keepIntermediate: true });
    const cpu = process.cpuUsage(cpu0);
    const threshold = spec.threshold ?? dedupDefaults.threshold;
    const clusterThreshold = spec.clusterThreshold ?? dedupDefaults.clusterThreshold;
    const scores = await score(con, "bench", "input_truth", args.id, threshold, clusterThreshold);
    const t = result.metrics.timings;
    return {
      records,
      ...scores,
      seconds: {
        load: seconds(load),
        ...phaseSeconds(t),
        total: seconds(t.budget + t.prepare + t.train + t.block + t.predict + t.cluster + t.output),
        cpu: seconds((cpu.user + cpu.system) / 1000),
      },
      prior: result.params.prior,
      trainingSessions: (result.metrics.training?.sessions ?? []).map((x) => ({
        rule: x.rule,
        lambda: x.lambda,
        recall: x.recall,
        iterations: x.iterations,
      })),
    };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

function report(name: string, f: SetFigures): void {
  const p = (x: number) => x.toFixed(3);
  console.log(`\n${name}: ${f.records.toLocaleString("en-US")} records, ${f.truePairs.toLocaleString("en-US")} true pairs`);
  console.log(`  blocking   recall ${p(f.blockingRecall)} (${f.candidatePairs.toLocaleString("en-US")} candidate pairs)`);
  const w = f.pairwise;
  console.log(`  pairwise @${w.threshold}  P ${p(w.precision)}  R ${p(w.recall)}  F1 ${p(w.f1)}   (best F1 over thresholds ${p(f.bestPairwiseF1.f1)} @${f.bestPairwiseF1.threshold.toPrecision(3)}, not used)`);
  const c = f.cluster;
  console.log(`  cluster  @${c.threshold}  P ${p(c.precision)}  R ${p(c.recall)}  F1 ${p(c.f1)}   (${c.entities.toLocaleString("en-US")} entities)`);
  const s = f.seconds;
  console.log(`  wall s     train ${s.train}  predict ${s.predict}  cluster ${s.cluster}  total ${s.total}  (cpu ${s.cpu}, load ${s.load})  prior ${f.prior.toExponential(3)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      data: { type: "string" },
      "truth-column": { type: "string" },
      only: { type: "string" },
      "skip-synthetic": { type: "boolean", default: false },
      "synthetic-records": { type: "string" },
      threads: { type: "string", default: "2" },
    },
  });
  const threads = Number(values.threads);
  const figures: Record<string, SetFigures | SyntheticFigures> = {};
  if (values.config || values.data) {
    if (!values.config || !values.data || !values["truth-column"]) {
      throw new Error("--config, --data and --truth-column go together");
    }
    const name = values.data.replace(/^.*\//, "").replace(/\.[^.]+$/, "");
    const f = await runLabelled(name, values.data, values.config, values["truth-column"], threads);
    report(name, f);
    figures[name] = f;
  } else {
    for (const set of sets) {
      if (values.only && !values.only.split(",").includes(set.name)) continue;
      const f = await runLabelled(set.name, set.data, set.config, set.truth, threads);
      report(set.name, f);
      figures[set.name] = f;
    }
    if (!values["skip-synthetic"] && (!values.only || values.only.includes("synthetic"))) {
      const n = Number(values["synthetic-records"] ?? 1_000_000);
      const f = await runSynthetic(n, threads);
      console.log(`\nsynthetic_1m: ${f.records.toLocaleString("en-US")} records in ${f.seconds.total} s = ${Math.round(f.recordsPerSecond).toLocaleString("en-US")} records/s, peak RSS ${f.peakRssMiB} MiB`);
      console.log(`  ${f.candidatePairs.toLocaleString("en-US")} candidate pairs, blocking recall ${f.blockingRecall.toFixed(3)}, pairwise F1 ${f.pairwise.f1.toFixed(3)}, cluster F1 ${f.cluster.f1.toFixed(3)}`);
      figures.synthetic_1m = f;
    }
  }
  console.log(JSON.stringify(figures));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
