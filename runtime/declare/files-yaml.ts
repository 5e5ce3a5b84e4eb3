// The YAML form of a file drop (`kind: files` under `sources:`) and of a file pattern's fields in a
// `bronze:` entry (`files: "orders/*.csv"`, …). Built with the same builders TypeScript uses.

import { z } from "zod";
import type { Duration } from "./duration.ts";
import { FILE_FORMATS, type FileFormat, type FilesSource } from "./files.ts";
import { source } from "./sources.ts";
import type { BronzeArgs, BronzeFilesArgs } from "./stages.ts";
import { duration } from "./yaml-fields.ts";

export const filesSourceSchema = z.strictObject({
  kind: z.literal("files"),
  folder: z.string().optional(),
  landing: z.string().optional(),
  chunkRows: z.number().int().positive().optional(),
}).refine((s) => (s.folder === undefined) !== (s.landing === undefined), "a files source has either folder (a local folder) or landing (a folder of the lake's landing container)");

export function filesSourceFromYaml(name: string, s: z.infer<typeof filesSourceSchema>): FilesSource {
  return source.files(name, s.folder !== undefined ? { folder: s.folder, chunkRows: s.chunkRows } : { landing: s.landing ?? "", chunkRows: s.chunkRows });
}

/** The fields of a `bronze:` entry that only a file pattern has (besides `files:` itself); `types` it shares with an endpoint. */
export const filesFields = {
  files: z.string().optional(),
  format: z.enum(FILE_FORMATS as [FileFormat, ...FileFormat[]]).optional(),
  load: z.enum(["incremental", "full"]).optional(),
  csv: z.strictObject({
    delimiter: z.string().optional(), quote: z.string().optional(), escape: z.string().optional(), header: z.boolean().optional(),
    nullString: z.string().optional(), dateFormat: z.string().optional(), timestampFormat: z.string().optional(),
  }).optional(),
  worksheet: z.string().optional(),
  settle: duration.optional(),
};

/** Fields of a `bronze:` entry that are for file patterns only, for the message when they are misused. */
export const FILES_ONLY = ["files", "format", "load", "csv", "worksheet", "settle"] as const;

type FilesEntry = z.infer<z.ZodObject<typeof filesFields>> & { types?: Record<string, string> };

/** `bronze.files`' arguments from a `bronze:` entry with `files:`. */
export function filesArgs(entry: FilesEntry & { files: string }, common: Omit<BronzeArgs, "incremental" | "deletes" | "partitions" | "name"> & { name: string }): BronzeFilesArgs {
  return {
    ...common,
    pattern: entry.files, format: entry.format, load: entry.load, csv: entry.csv, worksheet: entry.worksheet, types: entry.types,
    settle: entry.settle as Duration | undefined,
  };
}
