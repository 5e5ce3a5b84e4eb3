// The one step that makes a bronze load visible: its files, its schema and its checkpoint, in one Delta
// commit to the table (the state rides in the log, see state/bronze-state.ts). Every bronze path (a
// plain load, chunk by chunk; partitions; tombstones) commits here.

import type { BronzeTable } from "../../declare/stages.ts";
import { StageError } from "../../errors.ts";
import type { AddFile } from "../../lake/delta/actions.ts";
import { type BronzeBatch, type BronzeState, commitBronzeLog, type SchemaChange } from "../../state/bronze-state.ts";
import type { CursorPosition, FileLedger, SourceColumn } from "../../sources/source.ts";
import { assertHoldsTask, type StageContext } from "../context.ts";
import { bronzeRootOf } from "./state.ts";

export interface BronzeCommit {
  readonly batches: readonly BronzeBatch[];
  /** The `add` actions of the batches' files (uploaded with uploadBronzeFile). */
  readonly adds: readonly AddFile[];
  /** Bronze's columns once committed: every column ever seen. */
  readonly columns: readonly SourceColumn[];
  /** Columns of `columns` the source no longer has. @default those of the current state */
  readonly dropped?: readonly string[];
  readonly change?: SchemaChange;
  /** The checkpoint once committed (undefined for a stage without a cursor, or an empty first load). */
  readonly checkpoint: CursorPosition | undefined;
  /** A file source loading new files: the ledger once committed (the files whose rows these batches hold). */
  readonly ledger?: FileLedger;
  /**
   * The checkpoint this load started from (or last committed). When another load of the same stage moved
   * it meanwhile, nothing is committed and the load stops (its uploaded files become orphans the sweep
   * removes) instead of writing a stale checkpoint over the other's. Omit for loads that reset it.
   */
  readonly expected?: { readonly checkpoint: CursorPosition | undefined; readonly ledger?: FileLedger };
}

/** Commit batches, schema and checkpoint together. Committing batches already committed (a redelivered task) changes nothing. */
export async function commitBronze(ctx: StageContext<BronzeTable>, commit: BronzeCommit): Promise<BronzeState> {
  const { stage } = ctx;
  // A task that no longer holds its run (abandoned, or taken over by a redelivery) must not commit.
  await assertHoldsTask(ctx, `stage "${stage.name}": commit`);
  const root = await bronzeRootOf(ctx);
  const outcome = await ctx.engine.withConnection((con) =>
    commitBronzeLog(ctx.lake, con, root, {
      stage: stage.name,
      runId: ctx.runId,
      adds: commit.adds,
      replace: commit.batches.some((b) => b.mode === "full"),
      deletes: stage.deletes !== undefined,
      change: (current) => {
        const ids = new Set(current?.batches.map((b) => b.loadId));
        if (current && commit.batches.length && commit.batches.every((b) => ids.has(b.loadId))) return { unchanged: "these batches are already committed" };
        const moved = commit.expected && (!sameCursor(current?.checkpoint, commit.expected.checkpoint) || !sameLedger(current?.ledger, commit.expected.ledger));
        if (moved) {
          throw new StageError(`stage "${stage.name}": another load of this table committed meanwhile (checkpoint moved); this load stopped without committing`);
        }
        return {
          stage: stage.name,
          columns: commit.columns,
          // A commit that does not say (tombstones) keeps the dropped columns as they were.
          ...((commit.dropped ?? current?.dropped)?.length ? { dropped: commit.dropped ?? current?.dropped } : {}),
          schemaChanges: [...(current?.schemaChanges ?? []), ...(commit.change ? [commit.change] : [])],
          checkpoint: commit.checkpoint,
          ...(commit.ledger ? { ledger: commit.ledger } : {}),
          batches: [...(current?.batches ?? []), ...commit.batches],
        };
      },
    }),
  );
  return outcome.state;
}

function sameCursor(a: CursorPosition | undefined, b: CursorPosition | undefined): boolean {
  const key = (c: CursorPosition | undefined) => (c ? JSON.stringify([c.columns, c.values]) : "none");
  return key(a) === key(b);
}

/** Ledgers are compared as written: a load started from one ledger commits only over that ledger. */
function sameLedger(current: FileLedger | undefined, expected: FileLedger | undefined): boolean {
  return expected === undefined || JSON.stringify(current ?? []) === JSON.stringify(expected);
}
