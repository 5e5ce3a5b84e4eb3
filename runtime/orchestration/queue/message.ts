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
  return Buffer.from(JSON.stringify(TaskMessageSchema.parse(message)), "utf8").toString("base64");
}

/**
 * Accepts what arrives from the queue SDK (base64 text), from the Functions host (already decoded, and
 * parsed when it is JSON) or from a test (an object).
 */
export function decodeTaskMessage(raw: unknown): TaskMessage {
  let value = raw;
  if (typeof value === "string") {
    const text = value.trim().startsWith("{") ? value : Buffer.from(value, "base64").toString("utf8");
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidTaskMessage(`not JSON: ${text.slice(0, 80)}`);
    }
  } else if (Buffer.isBuffer(value)) {
    return decodeTaskMessage(value.toString("utf8"));
  }
  const parsed = TaskMessageSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidTaskMessage(parsed.error.issues.map((i) => `${i.path.join(".") || "message"}: ${i.message}`).join("; "));
  }
  return parsed.data;
}
