// The task queue the driver fills and the executor drains, and its poison queue, where the Functions host
// moves a message after its last failed delivery (`<name>-poison`, the host's own convention).

import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage/index.js";
import { DEFAULT_TASK_QUEUE } from "../runtime/declare/deployment.ts";
import type { RoleGrant } from "./roles.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface TaskQueueArgs {
  /** Resource group of the storage account. */
  resourceGroupName: pulumi.Input<string>;
  /** Storage account that holds the queues. @example lake.accountName */
  accountName: pulumi.Input<string>;
  /** Queue name; lowercase letters, digits and dashes. @default "mallard-tasks" */
  queueName?: string;
  /** Change what Mallard cannot foresee, per child. */
  transform?: { queue?: Transform<storage.QueueArgs>; poisonQueue?: Transform<storage.QueueArgs> };
}

export class TaskQueue extends pulumi.ComponentResource {
  readonly queue: storage.Queue;
  readonly poisonQueue: storage.Queue;
  /** Name of the task queue, as the runtime's app setting carries it. */
  readonly queueName: string;
  readonly poisonQueueName: string;

  constructor(name: string, args: TaskQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:queue:TaskQueue", name, {}, opts);
    this.queueName = args.queueName ?? DEFAULT_TASK_QUEUE;
    this.poisonQueueName = `${this.queueName}-poison`;
    this.queue = this.createQueue(name, args);
    this.poisonQueue = this.createPoisonQueue(name, args);
    this.registerOutputs({ queueName: this.queueName, poisonQueueName: this.poisonQueueName });
  }

  /**
   * Roles the executor needs, each scoped to one queue by that queue resource's id (so the assignment
   * follows the queue Azure made, and waits for it): receive and delete tasks, enqueue dependents, read
   * the length (the scale controller), and let the host move poison messages.
   */
  consumerAccess(): RoleGrant[] {
    return [
      { name: "queue-tasks", role: "storageQueueDataContributor", scope: this.queue.id },
      { name: "queue-poison", role: "storageQueueDataContributor", scope: this.poisonQueue.id },
    ];
  }

  private createQueue(name: string, args: TaskQueueArgs): storage.Queue {
    const [queueArgs, opts] = applyTransform<storage.QueueArgs>(args.transform?.queue, `${name}-queue`, {
      accountName: args.accountName,
      resourceGroupName: args.resourceGroupName,
      queueName: this.queueName,
    }, { parent: this });
    return new storage.Queue(`${name}-queue`, queueArgs, opts);
  }

  private createPoisonQueue(name: string, args: TaskQueueArgs): storage.Queue {
    const [queueArgs, opts] = applyTransform<storage.QueueArgs>(args.transform?.poisonQueue, `${name}-poison-queue`, {
      accountName: args.accountName,
      resourceGroupName: args.resourceGroupName,
      queueName: this.poisonQueueName,
    }, { parent: this });
    return new storage.Queue(`${name}-poison-queue`, queueArgs, opts);
  }
}
