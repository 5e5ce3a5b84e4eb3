// What a model sees of a bronze input (register-views.ts): `<view>`, the latest row per primary key, and
// `<view>__history`, every row. Loaded on demand: reading the Delta log needs DuckDB, which the Azure
// driver and `mallard plan` never load.

import type { BronzeTable } from "../../declare/stages.ts";
import type { InputViews } from "../kind.ts";

export const bronzeViews: InputViews<BronzeTable> = {
  companions: ["__history"],
  register: async (...args) => (await import("./register-views.ts")).registerBronze(...args),
};
