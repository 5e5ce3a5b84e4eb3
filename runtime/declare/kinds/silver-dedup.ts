// Declaration side of `silver.dedup`: `{ dedup: people, from: people_raw, id: …, compare: … }`. The
// options have their own schema and checks (../dedup.ts), applied when the entry is built, so the
// TypeScript and YAML forms refuse the same things with the same messages.

import { z } from "zod";
import { ConfigError } from "../../errors.ts";
import { checkDedupArgs, parseDedupArgs } from "../dedup.ts";
import { silver, type SilverDedup } from "../stages.ts";
import { name } from "../yaml-fields.ts";
import { yamlForm, type DeclaredKind } from "./kind.ts";

export const silverDedup: DeclaredKind<SilverDedup> = {
  yaml: yamlForm({
    key: "dedup",
    schema: z.looseObject({ dedup: name }),
    build(entry, yaml) {
      const { dedup: dedupName, ...raw } = entry;
      let args;
      try {
        args = parseDedupArgs(dedupName, raw);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        e.problems.forEach((p) => yaml.problem(p));
        return undefined;
      }
      const from = yaml.input(args.from, `stage "${dedupName}": from`);
      return from && silver.dedup(dedupName, { ...args, from });
    },
  }),
  inputs: (stage) => stage.inputs,
  check: (stage) => checkDedupArgs(stage.name, stage.spec),
  schedule: () => undefined,
};
