// `mallard query "select …"`: one query over the lake's tables (a view per table, bronze `__history`
// too), current or `--as-of` a version or a time; the result as a table, CSV or JSON lines.

import { openQuerySession } from "../../query/session.ts";
import type { ResultFormat } from "../../query/format.ts";
import type { CommonOptions } from "../main.ts";

export interface QueryOptions extends CommonOptions {
  args: string[];
  asOf?: string;
  format: ResultFormat;
  maxRows: number;
}

export async function queryCommand(options: QueryOptions): Promise<number> {
  const session = await openQuerySession(options);
  try {
    for (const note of session.skipped) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(await session.run(options.args.join(" "), options.format, options.maxRows));
    return 0;
  } finally {
    await session.close();
  }
}
