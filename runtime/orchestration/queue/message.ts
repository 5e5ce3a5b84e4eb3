// The task message on the queue: versioned JSON, validated on receipt. Base64-encoded on the wire, which
// is what the Functions queue trigger expects by default (host.json `messageEncoding: base64`).

import { z } from "zod";

export const TaskMessageSchema = z.object({
  /** Schema version; a new shape gets a new number and executors refuse what they do not know. */
  v: z.literal(1),
  runId: z.string().min(1),
  pipeline: z.string().min(1),
  /** Task id from the plan: the stage name, `#<n>` for a partition. */
  task: z.string().min(1),
  /** 1 for the first try; a retry sent by the executor carries the next number. */
  attempt: z.number().int().min(1),
});

export type TaskMessage = z.infer<typeof TaskMessageSchema>;

/** A message that is not a task message (wrong version, garbled): never retried, it goes to poison. */
export class InvalidTaskMessage extends Error {
  constructor(detail: string) {
    super(`invalid task message: ${detail}`);
    this.name = "InvalidTaskMessage";
  }
}

export function encodeTaskMessage(message: TaskMessage): string {
  return toWire(TaskMessageSchema.parse(message));
}

function toWire(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

/** A message that is not a task message, kept in the poison queue with the reason, for operators. */
export const KeptMessageSchema = z.object({
  kept: z.literal("invalid task message"),
  reason: z.string(),
  /** The message as it arrived. */
  body: z.string(),
  /** When it was first kept. */
  at: z.string(),
});

export type KeptMessage = z.infer<typeof KeptMessageSchema>;

export function encodeKeptMessage(message: KeptMessage): string {
  return toWire(KeptMessageSchema.parse(message));
}

/** The kept message this body is, or undefined when it is something else. */
export function readKeptMessage(raw: unknown): KeptMessage | undefined {
  try {
    const parsed = KeptMessageSchema.safeParse(parseBody(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Accepts what arrives from the queue SDK (base64 text), from the Functions host (already decoded, and
 * parsed when it is JSON) or from a test (an object).
 */
export function decodeTaskMessage(raw: unknown): TaskMessage {
  const parsed = TaskMessageSchema.safeParse(parseBody(raw));
  if (!parsed.success) {
    throw new InvalidTaskMessage(parsed.error.issues.map((i) => `${i.path.join(".") || "message"}: ${i.message}`).join("; "));
  }
  return parsed.data;
}

/** The JSON value a body holds: base64 or plain JSON text, a Buffer, or already parsed. */
function parseBody(raw: unknown): unknown {
  if (Buffer.isBuffer(raw)) return parseBody(raw.toString("utf8"));
  if (typeof raw !== "string") return raw;
  const text = raw.trim().startsWith("{") ? raw : Buffer.from(raw, "base64").toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidTaskMessage(`not JSON: ${text.slice(0, 80)}`);
  }
}
