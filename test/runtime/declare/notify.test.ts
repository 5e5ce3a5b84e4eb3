// The `notify` declaration, in TypeScript and YAML: the same webhooks from both, a URL accepted only as a
// secret reference (a literal URL would be committed with the declaration), and one line per problem.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bronze, check, pipeline, secret, silver, source, webhook, type SecretRef } from "../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../runtime/declare/yaml.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import { collectNeeds } from "../../../infra/stages/index.ts";

const db = source.postgres("db", { connection: secret("db-url") });
const orders = bronze.table(db, { table: "public.orders", primaryKey: "id" });

function problems(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail("expected the declaration to be refused");
}

describe("notify declaration", () => {
  it("builds the same settings from TypeScript and YAML, with defaults", () => {
    const ts = pipeline("shop", {
      schedule: "0 0 * * * *", stages: [orders],
      notify: { webhooks: [webhook.teams({ url: secret("teams-url") }), webhook.slack({ name: "oncall", url: secret("slack-url"), on: ["run-failed"] })], warnAbove: 5 },
    });
    const yaml = pipelineFromYaml(`name: shop
schedule: "0 0 * * * *"
sources: { db: { kind: postgres, connection: { secret: db-url } } }
stages:
  - { bronze: orders, source: db, table: public.orders, primaryKey: id }
notify:
  warnAbove: 5
  webhooks:
    - { format: teams, url: { secret: teams-url } }
    - { format: slack, name: oncall, url: { secret: slack-url }, on: [run-failed] }
`, "p.yml");
    assert.deepEqual(yaml.notify, ts.notify);
    assert.deepEqual(ts.notify, {
      warnAbove: 5, retry: { maxAttempts: 5, totalSeconds: 30 },
      webhooks: [
        { kind: "webhook", format: "teams", name: "teams-url", url: { kind: "secret", name: "teams-url" }, on: ["run-failed", "warn-check", "stale-gold", "reconciliation-drift"] },
        { kind: "webhook", format: "slack", name: "oncall", url: { kind: "secret", name: "slack-url" }, on: ["run-failed"] },
      ],
    });
    assert.equal(pipeline("shop", { schedule: "0 0 * * * *", stages: [orders] }).notify, undefined);
  });

  it("takes a warn check's own threshold from TypeScript and YAML", () => {
    const ts = check.notNull("email", { severity: "warn", notifyAbove: 3 });
    assert.equal(ts.notifyAbove, 3);
    const yaml = pipelineFromYaml(`name: shop
schedule: "0 0 * * * *"
sources: { db: { kind: postgres, connection: x } }
stages:
  - { bronze: orders, source: db, table: public.orders, primaryKey: id }
  - { silver: clean, from: orders, sql: select 1, checks: [{ notNull: email, severity: warn, notifyAbove: 3 }] }
`, "p.yml");
    assert.deepEqual((yaml.stages[1] as ReturnType<typeof silver.model>).checks[0], ts);
  });

  it("refuses a literal URL, an unknown event, a duplicate name and bounds out of range, one line each", () => {
    const url = "https://hooks.slack.com/services/T/B/secretpart" as unknown as SecretRef;
    assert.deepEqual(problems(() => pipeline("shop", {
      schedule: "0 0 * * * *", stages: [orders],
      notify: {
        webhooks: [webhook.slack({ url }), webhook.teams({ name: "a", url: secret("x") }), webhook.teams({ name: "a", url: secret("y"), on: ["run-fail" as "run-failed"] })],
        warnAbove: -1, retry: { maxAttempts: 0, totalSeconds: 900 },
      },
    })), [
      'pipeline "shop": notify.webhooks[0].url: expected secret("<name>") (a webhook URL is a credential and never sits in the declaration)',
      'pipeline "shop": notify.webhooks[2].name: "a" is used by two webhooks',
      'pipeline "shop": notify.webhooks[2].on: unknown event "run-fail" (expected run-failed, warn-check, stale-gold, reconciliation-drift)',
      'pipeline "shop": notify.warnAbove: expected a whole number ≥ 0 of failing rows (got -1)',
      'pipeline "shop": notify.retry.maxAttempts: expected a whole number from 1 to 10 (got 0)',
      'pipeline "shop": notify.retry.totalSeconds: expected more than 0 and at most 300 (got 900)',
    ]);
    const [yamlProblem] = problems(() => pipelineFromYaml(`name: shop
schedule: "0 0 * * * *"
sources: { db: { kind: postgres, connection: x } }
stages: [{ bronze: orders, source: db, table: public.orders, primaryKey: id }]
notify: { webhooks: [{ format: slack, url: "https://hooks.slack.com/services/T/B/secretpart" }] }
`, "p.yml"));
    assert.match(yamlProblem, /^p\.yml: notify\.webhooks\.0\.url: /);
    assert.doesNotMatch(yamlProblem, /secretpart/);
  });

  it("puts the webhooks' URLs among the secrets the stack writes to Key Vault", () => {
    const p = pipeline("shop", { schedule: "0 0 * * * *", stages: [orders], notify: { webhooks: [webhook.teams({ url: secret("teams-url") })] } });
    assert.deepEqual(collectNeeds(p).secrets.map((s) => s.name), ["db-url", "teams-url"]);
  });
});
