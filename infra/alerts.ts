// Alert rules from the pipeline's needs: one scheduled log query per rule on Application Insights, and the
// action group every rule fires, with the stack's receivers: email addresses and webhooks (a Teams
// workflow, an on-call tool). The group exists without receivers too, so the rules are wired and a
// receiver added later changes only the group.

import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor/index.js";
import type { AlertSpec } from "./stages/index.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface AlertsArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Application Insights the queries run on. */
  appInsightsId: pulumi.Input<string>;
  /** Rules, from the pipeline's and stages' needs. */
  rules: readonly AlertSpec[];
  /** Azure names of the rules start with this. @example "mallard-dev" */
  namePrefix: string;
  /** Email receivers of the action group. @default [] */
  emails?: readonly string[];
  /** Webhook receivers of the action group; the URL is a secret (it is the key). @default [] */
  webhooks?: readonly AlertWebhook[];
  /** 0 (critical) to 4. @default 1 */
  severity?: number;
  /** ISO 8601. @default "PT5M" */
  evaluationFrequency?: string;
  /** @default {} */
  tags?: Record<string, string>;
  transform?: { rule?: Transform<monitor.ScheduledQueryRuleArgs>; actionGroup?: Transform<monitor.ActionGroupArgs> };
}

export interface AlertWebhook {
  /** Receiver name in the action group. @example "oncall" */
  name: string;
  serviceUri: pulumi.Input<string>;
}

export class Alerts extends pulumi.ComponentResource {
  readonly actionGroup: monitor.ActionGroup;
  /** Rules by key. */
  readonly rules: Readonly<Record<string, monitor.ScheduledQueryRule>>;

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:alerts:Alerts", name, {}, opts);
    this.actionGroup = this.createActionGroup(name, args);
    this.rules = Object.fromEntries(args.rules.map((rule) => [rule.key, this.createRule(name, args, rule)]));
    this.registerOutputs({ rules: Object.keys(this.rules), actionGroupId: this.actionGroup.id });
  }

  private createActionGroup(name: string, args: AlertsArgs): monitor.ActionGroup {
    const [groupArgs, opts] = applyTransform<monitor.ActionGroupArgs>(args.transform?.actionGroup, `${name}-notify`, {
      resourceGroupName: args.resourceGroupName,
      location: "global",
      groupShortName: "mallard",
      enabled: true,
      emailReceivers: (args.emails ?? []).map((email, i) => ({ name: `email-${i + 1}`, emailAddress: email, useCommonAlertSchema: true })),
      // The common alert schema: one JSON shape for every rule, which Logic Apps and Teams workflows parse.
      webhookReceivers: (args.webhooks ?? []).map((hook) => ({ name: hook.name, serviceUri: pulumi.secret(hook.serviceUri), useCommonAlertSchema: true })),
      tags: args.tags,
    }, { parent: this });
    return new monitor.ActionGroup(`${name}-notify`, groupArgs, opts);
  }

  private createRule(name: string, args: AlertsArgs, rule: AlertSpec): monitor.ScheduledQueryRule {
    const frequency = args.evaluationFrequency ?? "PT5M";
    const [ruleArgs, opts] = applyTransform<monitor.ScheduledQueryRuleArgs>(args.transform?.rule, `${name}-${rule.key}`, {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      ruleName: `${args.namePrefix}-${rule.key}`,
      kind: "LogAlert",
      displayName: rule.displayName,
      description: rule.description,
      enabled: true,
      severity: args.severity ?? 1,
      scopes: [args.appInsightsId],
      evaluationFrequency: frequency,
      windowSize: frequency,
      criteria: {
        allOf: [{
          query: rule.query,
          timeAggregation: "Count",
          operator: "GreaterThan",
          threshold: 0,
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
        }],
      },
      autoMitigate: false,
      actions: { actionGroups: [this.actionGroup.id] },
      tags: args.tags,
    }, { parent: this });
    return new monitor.ScheduledQueryRule(`${name}-${rule.key}`, ruleArgs, opts);
  }
}
