// The task queue: what the driver and executor send to, and what a worker (the Functions host in Azure,
// `runThroughQueue` on a laptop) receives from. Two implementations: Azure Storage Queue and in-process.

import type { TaskMessage } from "./message.ts";

export interface SendOptions {
  /** Keep the message invisible this long first (retry backoff). @default 0 */
  delaySeconds?: number;
}

export interface ReceivedMessage {
  /** The raw body (base64 text on Azure, as the Functions host would receive it). */
  readonly body: string;
  /** How many times this message has been received, this time included (the host's dequeueCount). */
  readonly dequeueCount: number;
  readonly id: string;
  /** Remove the message: it was handled. */
  complete(): Promise<void>;
  /** Leave it for a later receive, visible again after this delay. */
  abandon(delaySeconds: number): Promise<void>;
}

export interface ReceiveOptions {
  /** @default 16 (Azure allows at most 32) */
  max?: number;
  /** How long received messages stay invisible to others before redelivery. @default 300 */
  visibilityTimeoutSeconds?: number;
}

export interface TaskQueue {
  /** Queue name; the poison queue is `<name>-poison`. */
  readonly name: string;
  /**
   * True when messages live only in this process (the in-process queue): a run through it dies with the
   * process, so a dead process id abandons it at once instead of after the lease time.
   */
  readonly processBound: boolean;
  send(message: TaskMessage, options?: SendOptions): Promise<void>;
  /** Put a message that cannot succeed on the poison queue, with its raw body. */
  sendPoison(body: string, options?: SendOptions): Promise<void>;
  receive(options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  receivePoison(options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Create the queue and its poison queue if absent (Azurite, laptops; Pulumi does it in Azure). */
  ensure(): Promise<void>;
  /** Messages waiting (approximate on Azure), for status: a growing poison count needs an operator. */
  depth(): Promise<{ tasks: number; poison: number }>;
}

export function poisonQueueName(name: string): string {
  return `${name}-poison`;
}
