// `mallard shell`: an interactive SQL prompt over the lake's tables (the views `mallard query` has).
// Statements end with `;`. `.tables` lists the views and the version each reads; `.quit` leaves. Piped
// input runs statement by statement, so a script works too.

import { createInterface } from "node:readline";
import { describeError } from "../../errors.ts";
import { openQuerySession, type QuerySession } from "../../query/session.ts";
import type { CommonOptions } from "../main.ts";

export interface ShellOptions extends CommonOptions {
  asOf?: string;
  maxRows: number;
}

export async function shellCommand(options: ShellOptions): Promise<number> {
  const session = await openQuerySession(options);
  const interactive = Boolean(process.stdin.isTTY);
  const out = process.stdout;
  let failed = false;
  try {
    for (const note of session.skipped) process.stderr.write(`note: ${note}\n`);
    if (interactive) out.write(`${session.views.size} tables${options.asOf ? ` as of ${options.asOf}` : ""}; .tables lists them, .quit leaves; end statements with ;\n`);
    const lines = createInterface({ input: process.stdin, output: interactive ? out : undefined, prompt: "mallard> ", terminal: interactive });
    let pending = "";
    if (interactive) lines.prompt();
    for await (const line of lines) {
      const command = line.trim();
      if (!pending && (command === ".quit" || command === ".exit")) break;
      if (!pending && command === ".tables") out.write(listTables(session));
      else if (command || pending) {
        pending += `${line}\n`;
        if (pending.trimEnd().endsWith(";")) {
          try {
            out.write(await session.run(pending, "table", options.maxRows));
          } catch (e) {
            failed = true;
            process.stderr.write(`error: ${describeError(e)}\n`);
          }
          pending = "";
        }
      }
      if (interactive) {
        lines.setPrompt(pending ? "   ...> " : "mallard> ");
        lines.prompt();
      }
    }
    lines.close();
    // Interactively an error is just printed; a script that failed exits with 1.
    return failed && !interactive ? 1 : 0;
  } finally {
    await session.close();
  }
}

function listTables(session: QuerySession): string {
  return [...session.views].map(([name, version]) => `${name}${version === undefined ? "" : `  (version ${version})`}`).join("\n") + "\n";
}
