// The task queue on Azure Storage Queue (Azurite in tests). Message bodies are base64 JSON, as the
// Functions queue trigger reads them; the poison queue is `<name>-poison`, where the host moves a message
// after `maxDequeueCount` failed deliveries.

import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { type QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { APP_SETTINGS, DEFAULT_TASK_QUEUE } from "../../declare/deployment.ts";
import { ConfigError, describeError, QueueError } from "../../errors.ts";
import { encodeTaskMessage, type TaskMessage } from "./message.ts";
import { poisonQueueName, type ReceivedMessage, type ReceiveOptions, type SendOptions, type TaskQueue } from "./task-queue.ts";

export type QueueConnection =
  | { kind: "connectionString"; connectionString: string }
  | {
      kind: "identity";
      /** @example "https://mallarddev.queue.core.windows.net" */
      queueServiceUri: string;
      /** @default new DefaultAzureCredential() */
      credential?: TokenCredential;
    };

export class AzureTaskQueue implements TaskQueue {
  readonly processBound = false;
  readonly queue: QueueClient;
  readonly poison: QueueClient;

  constructor(connection: QueueConnection, readonly name: string = DEFAULT_TASK_QUEUE) {
    // Refused here in one line; Azure would answer every request with a 400 about "invalid characters".
    if (!QUEUE_NAME.test(name) || poisonQueueName(name).length > 63) {
      throw new ConfigError([`queue name "${name}": not an Azure Storage queue name (3 to 56 lowercase letters, digits and single hyphens, starting and ending with a letter or digit; "-poison" is added for the poison queue)`]);
    }
    const service =
      connection.kind === "connectionString"
        ? QueueServiceClient.fromConnectionString(connection.connectionString)
        : new QueueServiceClient(connection.queueServiceUri, connection.credential ?? new DefaultAzureCredential());
    this.queue = service.getQueueClient(name);
    this.poison = service.getQueueClient(poisonQueueName(name));
  }

  async ensure(): Promise<void> {
    await Promise.all([storage(this.queue, "create", () => this.queue.createIfNotExists()), storage(this.poison, "create", () => this.poison.createIfNotExists())]);
  }

  async depth(): Promise<{ tasks: number; poison: number }> {
    const count = (q: QueueClient) => q.getProperties().then((p) => p.approximateMessagesCount ?? 0, () => 0);
    const [tasks, poison] = await Promise.all([count(this.queue), count(this.poison)]);
    return { tasks, poison };
  }

  async send(message: TaskMessage, options: SendOptions = {}): Promise<void> {
    // messageTimeToLive -1: a queued task never silently expires (the default is 7 days).
    await storage(this.queue, "send to", () => this.queue.sendMessage(encodeTaskMessage(message), {
      visibilityTimeout: options.delaySeconds ? Math.ceil(options.delaySeconds) : undefined,
      messageTimeToLive: -1,
    }));
  }

  async sendPoison(body: string, options: SendOptions = {}): Promise<void> {
    await storage(this.poison, "send to", () => this.poison.sendMessage(body, {
      visibilityTimeout: options.delaySeconds ? Math.ceil(options.delaySeconds) : undefined,
      messageTimeToLive: -1,
    }));
  }

  receive(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    return receiveFrom(this.queue, options);
  }

  receivePoison(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    return receiveFrom(this.poison, options);
  }
}

async function receiveFrom(queue: QueueClient, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
  const response = await storage(queue, "receive from", () => queue.receiveMessages({
    numberOfMessages: Math.min(options.max ?? 16, 32),
    visibilityTimeout: options.visibilityTimeoutSeconds ?? 300,
  }));
  return response.receivedMessageItems.map((item) => {
    let popReceipt = item.popReceipt;
    return {
      body: item.messageText,
      dequeueCount: item.dequeueCount,
      id: item.messageId,
      complete: async () => {
        await queue.deleteMessage(item.messageId, popReceipt);
      },
      abandon: async (delaySeconds: number) => {
        const updated = await queue.updateMessage(item.messageId, popReceipt, undefined, Math.max(0, Math.ceil(delaySeconds)));
        popReceipt = updated.popReceipt ?? popReceipt;
      },
    };
  });
}

/** Lowercase letters, digits and single hyphens, 3 to 63 characters, a letter or digit at each end. */
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * A storage call whose failure (a wrong key, no role, an unreachable account) is an expected failure:
 * one line naming the queue and what was refused, never the SDK's stack or the connection string.
 */
async function storage<T>(queue: QueueClient, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const status = (e as { statusCode?: unknown }).statusCode;
    const code = (e as { code?: unknown }).code;
    const detail = [typeof status === "number" ? `HTTP ${status}` : undefined, typeof code === "string" ? code : undefined].filter(Boolean).join(" ");
    throw new QueueError(`cannot ${what} the task queue "${queue.name}" at ${queue.url.split("?")[0]}: ${describeError(e)}${detail ? ` (${detail})` : ""}`, { cause: e });
  }
}

/** The task queue from the Function App's settings, or undefined when none is configured. */
export function taskQueueFromSettings(env: NodeJS.ProcessEnv = process.env): AzureTaskQueue | undefined {
  const name = env[APP_SETTINGS.taskQueue] || DEFAULT_TASK_QUEUE;
  const prefix = APP_SETTINGS.queueConnection;
  const connectionString = env[prefix] || env[APP_SETTINGS.lakeConnectionString];
  if (connectionString) return new AzureTaskQueue({ kind: "connectionString", connectionString }, name);
  const queueServiceUri = env[`${prefix}__queueServiceUri`];
  if (queueServiceUri) return new AzureTaskQueue({ kind: "identity", queueServiceUri }, name);
  return undefined;
}
