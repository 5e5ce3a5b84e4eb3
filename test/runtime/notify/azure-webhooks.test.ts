// Webhooks from the Azure executor, on a real Azurite (Blob lake, Queue tasks) with stand-in tasks: the
// executor that closes a failed run sends the run-failed notice once, even when every queue message is
// delivered twice, with the link to the runs API when the Function App's host name is set; a receiver
// that always fails leaves the run's record and status as they were, and its URL in no log line.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { pipeline, secret, webhook } from "../../../runtime/declare/index.ts";
import { AzureLake } from "../../../runtime/lake/azure-lake.ts";
import { runThroughQueue } from "../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../runtime/orchestration/queue/azure-queue.ts";
import { EnvSecretProvider, SecretChain } from "../../../runtime/secrets/secrets.ts";
import { type LogLine, Monitor } from "../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../helpers/azurite.ts";
import { startReceiver } from "../../helpers/webhook-receiver.ts";
import { CountingQueue, fakeRunner, testPipeline } from "../orchestration/azure/fixture.ts";

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

const KEY = "sig=AzureTeamsKey5551234";

async function queueRun(urls: { teams: string; slack: string }) {
  const id = randomBytes(4).toString("hex");
  const connection = { kind: "connectionString" as const, connectionString: azurite.connectionString };
  const lines: LogLine[] = [];
  const p = pipeline("qnotify", {
    schedule: testPipeline.schedule, stages: testPipeline.stages,
    notify: { webhooks: [webhook.teams({ url: secret("teams-url") }), webhook.slack({ url: secret("slack-url") })], retry: { maxAttempts: 2, totalSeconds: 5 } },
  });
  const record = await runThroughQueue({
    pipeline: p, lake: new AzureLake({ connection, root: `n-${id}` }), queue: new CountingQueue(new AzureTaskQueue(connection, `tasks-${id}`), true),
    secrets: new SecretChain([new EnvSecretProvider({ MALLARD_SECRET_TEAMS_URL: urls.teams, MALLARD_SECRET_SLACK_URL: urls.slack })]),
    projectRoot: process.cwd(), workers: 2, monitor: new Monitor({ sink: (line) => lines.push(line) }),
    runTask: fakeRunner({ checkFails: ["g"] }), retry: { baseDelaySeconds: 1, maxAttempts: 2 }, notifyDelivery: { baseDelayMs: 10 },
  });
  return { record, lines };
}

describe("webhooks from the Azure executor", () => {
  it("the executor closing a failed run notifies once, with the runs API link; a failing receiver changes nothing", async () => {
    const teams = await startReceiver([{ status: 200 }]);
    const slack = await startReceiver([{ status: 502 }]);
    const host = process.env.WEBSITE_HOSTNAME;
    process.env.WEBSITE_HOSTNAME = "mallard-dev-abc.azurewebsites.net";
    try {
      const { record, lines } = await queueRun({ teams: `${teams.url}/workflows?${KEY}`, slack: `${slack.url}/services/T1/B1/AzureSlackKey777` });
      assert.equal(record.status, "failed");
      assert.equal(record.error?.stage, "g");
      assert.equal(teams.received.length, 1, "one notice, though every message was delivered twice");
      const card = (teams.received[0].body.attachments as { content: { body: { text?: string }[]; actions: { url: string }[] } }[])[0].content;
      assert.equal(card.body[0].text, "qnotify: run failed");
      assert.equal(card.actions[0].url, `https://mallard-dev-abc.azurewebsites.net/api/runs/${record.runId}/report`);
      assert.equal(slack.received.length, 2, "retried up to maxAttempts");
      const text = lines.map((l) => JSON.stringify(l)).join("\n");
      assert.match(text, /notify: run-failed sent to webhook \\"teams-url\\" \(teams\)/);
      assert.match(text, /notify: run-failed not delivered to webhook \\"slack-url\\" \(slack\): HTTP 502 error \(gave up after 2 attempts\)/);
      assert.doesNotMatch(text, /AzureTeamsKey|AzureSlackKey|services\/T1/);
      assert.ok(lines.some((l) => l.msg === `run ${record.runId} failed`));
    } finally {
      if (host === undefined) delete process.env.WEBSITE_HOSTNAME;
      else process.env.WEBSITE_HOSTNAME = host;
      await teams.close();
      await slack.close();
    }
  });
});
