// The task queue in this process: the same semantics as the Azure queue (visibility timeout, dequeue
// count, poison queue) for local runs and tests, without a storage account.

import { randomUUID } from "node:crypto";
import { encodeTaskMessage, type TaskMessage } from "./message.ts";
import { poisonQueueName, type ReceivedMessage, type ReceiveOptions, type SendOptions, type TaskQueue } from "./task-queue.ts";

interface Stored {
  id: string;
  body: string;
  visibleAt: number;
  dequeueCount: number;
  receipt: string;
}

export class InProcessTaskQueue implements TaskQueue {
  readonly processBound = true;
  private readonly messages: Stored[] = [];
  private readonly poison: Stored[] = [];

  constructor(readonly name = "mallard-tasks", private readonly now: () => number = Date.now) {}

  async ensure(): Promise<void> {}

  async send(message: TaskMessage, options: SendOptions = {}): Promise<void> {
    this.push(this.messages, encodeTaskMessage(message), (options.delaySeconds ?? 0) * 1000);
  }

  async sendPoison(body: string, options: SendOptions = {}): Promise<void> {
    this.push(this.poison, body, (options.delaySeconds ?? 0) * 1000);
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.take(this.messages, options);
  }

  async receivePoison(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.take(this.poison, options);
  }

  async depth(): Promise<{ tasks: number; poison: number }> {
    return { tasks: this.messages.length, poison: this.poison.length };
  }

  get poisonName(): string {
    return poisonQueueName(this.name);
  }

  private push(list: Stored[], body: string, delayMs: number): void {
    list.push({ id: randomUUID(), body, visibleAt: this.now() + delayMs, dequeueCount: 0, receipt: "" });
  }

  private take(list: Stored[], options: ReceiveOptions = {}): ReceivedMessage[] {
    const now = this.now();
    const visible = list.filter((m) => m.visibleAt <= now).slice(0, Math.min(options.max ?? 16, 32));
    return visible.map((stored) => {
      stored.dequeueCount++;
      stored.visibleAt = now + (options.visibilityTimeoutSeconds ?? 300) * 1000;
      const receipt = (stored.receipt = randomUUID());
      // Like a pop receipt: a consumer whose visibility timeout lapsed (and the message went to someone
      // else) can no longer delete or move it.
      const own = () => stored.receipt === receipt && list.includes(stored);
      return {
        body: stored.body,
        dequeueCount: stored.dequeueCount,
        id: stored.id,
        complete: async () => {
          if (!own()) throw new Error(`message ${stored.id}: pop receipt no longer valid`);
          list.splice(list.indexOf(stored), 1);
        },
        abandon: async (delaySeconds: number) => {
          if (!own()) throw new Error(`message ${stored.id}: pop receipt no longer valid`);
          stored.visibleAt = this.now() + delaySeconds * 1000;
        },
      };
    });
  }
}
