// Which Delta tables Mallard reads and writes. Mallard creates tables at reader 1 / writer 2, or reader 3 /
// writer 7 with exactly the `timestampNtz` feature when a column needs it. It reads any table whose
// features it implements, and refuses the rest with a message naming the feature, never a wrong answer.

import { LakeError } from "../../errors.ts";
import type { Metadata, Protocol } from "./actions.ts";
import { type DeltaStruct, parseSchema, usesTimestampNtz } from "./schema.ts";

/** A Delta table Mallard cannot read or write, or a log that breaks the protocol. */
export class DeltaError extends LakeError {
  constructor(message: string) {
    super(message);
    this.name = "DeltaError";
  }
}

/**
 * Reader features Mallard implements: timestamps without time zone, V2 checkpoints (with sidecars),
 * VACUUM protocol check (nothing to do for a reader), and type widening (every column is cast to the
 * table's type on read, so a file written with a narrower type reads right).
 */
export const READER_FEATURES: ReadonlySet<string> = new Set(["timestampNtz", "v2Checkpoint", "vacuumProtocolCheck", "typeWidening", "typeWidening-preview"]);

/** Writer features Mallard respects when it commits to a table. */
export const WRITER_FEATURES: ReadonlySet<string> = new Set(["timestampNtz", "appendOnly", "invariants"]);

/** The protocol for a new table with this schema: features only where a column needs one. */
export function protocolFor(schema: DeltaStruct): Protocol {
  if (schema.fields.some((f) => usesTimestampNtz(f.type))) {
    return { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["timestampNtz"], writerFeatures: ["timestampNtz"] };
  }
  return { minReaderVersion: 1, minWriterVersion: 2 };
}

/** The protocol after a schema change: the current one, upgraded when a new column needs a feature. */
export function upgradeProtocol(current: Protocol, schema: DeltaStruct): Protocol {
  const needed = protocolFor(schema);
  if (needed.minReaderVersion === 1 || current.readerFeatures?.includes("timestampNtz")) return current;
  return {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: [...new Set([...(current.readerFeatures ?? []), "timestampNtz"])],
    // Writer 2 implies appendOnly and invariants; at writer 7 they are listed (PROTOCOL.md, Table Features).
    writerFeatures: [...new Set([...(current.writerFeatures ?? (current.minWriterVersion >= 2 ? ["appendOnly", "invariants"] : [])), "timestampNtz"])],
  };
}

/** Throws unless Mallard's reader implements everything this table needs. */
export function assertReadable(table: string, protocol: Protocol, metadata: Metadata | undefined): void {
  const { minReaderVersion: version } = protocol;
  if (version > 3) throw new DeltaError(`${table}: Delta reader version ${version} is newer than Mallard reads (up to 3)`);
  if (version === 2 || (version === 3 && protocol.readerFeatures?.includes("columnMapping"))) {
    const mode = metadata?.configuration["delta.columnMapping.mode"] ?? "none";
    if (mode !== "none") throw unsupported(table, "reader", "columnMapping");
  }
  if (version === 3) {
    for (const feature of protocol.readerFeatures ?? []) {
      if (feature !== "columnMapping" && !READER_FEATURES.has(feature)) throw unsupported(table, "reader", feature);
    }
  }
}

/** Throws unless Mallard may commit to this table: it respects every writer feature it has. */
export function assertWritable(table: string, protocol: Protocol, metadata: Metadata): void {
  assertReadable(table, protocol, metadata);
  const { minWriterVersion: version } = protocol;
  if (version >= 3 && version <= 6) {
    throw new DeltaError(`${table}: Delta writer version ${version} (CHECK constraints, change data feed, generated or identity columns) is not one Mallard writes; it writes versions 2 and 7`);
  }
  if (version > 7) throw new DeltaError(`${table}: Delta writer version ${version} is newer than Mallard writes (up to 7)`);
  if (version === 7) {
    for (const feature of protocol.writerFeatures ?? []) {
      if (!WRITER_FEATURES.has(feature)) throw unsupported(table, "writer", feature);
    }
  }
  const invariants = parseSchema(metadata.schemaString).fields.filter((f) => "delta.invariants" in f.metadata);
  if (invariants.length) {
    throw new DeltaError(`${table}: column "${invariants[0].name}" has a Delta invariant, which Mallard does not enforce; it will not write this table`);
  }
}

function unsupported(table: string, side: "reader" | "writer", feature: string): DeltaError {
  const supported = [...(side === "reader" ? READER_FEATURES : WRITER_FEATURES)].join(", ");
  return new DeltaError(`${table}: the Delta table uses ${side} feature "${feature}", which Mallard does not support (it supports: ${supported})`);
}
