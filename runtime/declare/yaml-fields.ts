// Field shapes shared by the YAML form of the pipeline file and of each stage kind (runtime/declare/kinds/).

import { z } from "zod";
import { parseDuration } from "./duration.ts";

export const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "letters, digits and _, not starting with a digit");
export const duration = z.string().refine((s) => parseDuration(s) !== undefined, "a duration such as \"10 minutes\"");
export const columns = z.union([z.string(), z.array(z.string()).min(1)]);
