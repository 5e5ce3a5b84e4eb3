// What every stage kind declares besides its type: its YAML form, the stages it reads and the checks its
// builder cannot express in types. Declaration-side only (no engine, no Azure SDK): the CLI, the Pulumi
// program and the Functions entry all load it. The run side of a kind is runtime/stages/<kind>.ts.

import type { z } from "zod";
import type { Source } from "../sources.ts";
import type { Stage } from "../stages.ts";

export interface DeclaredKind<S extends Stage> {
  /** How a stage of this kind is written in a YAML pipeline. */
  readonly yaml: YamlForm<S>;
  /** The stages it reads, by the view name its code sees them as (none for a bronze table). */
  inputs(stage: S): Readonly<Record<string, Stage>>;
  /** Problems the declaration's type cannot rule out, one message each, naming the stage and field. */
  check(stage: S): string[];
  /** Its own schedule (a timer of its own besides the pipeline's), if it has one. */
  schedule(stage: S): string | undefined;
}

export interface YamlForm<S extends Stage> {
  /** The field that both names a stage of this kind and tells the kinds apart: `{ bronze: orders, … }`. */
  readonly key: string;
  /** The entry's shape, the key included; zod's messages name the field that is wrong. */
  readonly schema: z.ZodType;
  /** The declaration, built from a valid entry with the same builder TypeScript pipelines use. */
  build(entry: unknown, yaml: YamlContext): S | undefined;
}

/** What building one entry can ask of the rest of the file. Problems are collected, not thrown. */
export interface YamlContext {
  /**
   * The stage called `name`, built first; undefined (a problem is recorded) if there is none or it closes
   * a cycle. `where` names the field in that problem: `stage "clean": from.orders`.
   */
  input(name: string, where: string): Stage | undefined;
  /** The file's source called `name`; undefined (a problem is recorded) if there is none. */
  source(name: string, stage: string): Source | undefined;
  /** Record a problem; the file's name is put in front. */
  problem(message: string): void;
}

/** A YAML form whose `build` sees the entry as its schema parsed it. */
export function yamlForm<S extends Stage, T extends z.ZodType>(form: {
  key: string;
  schema: T;
  build(entry: z.output<T>, yaml: YamlContext): S | undefined;
}): YamlForm<S> {
  return form;
}
