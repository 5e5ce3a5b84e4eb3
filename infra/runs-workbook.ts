// An Application Insights workbook for a pipeline's runs: KQL over the telemetry the runtime sends
// (runtime/telemetry/monitor.ts): runs per status over time, the runs with their durations, task
// durations per stage, failures (runs, tasks, checks, reconciliation drift), each bronze table's latest
// reconciliation with its source, and rows in and out. It opens
// from the portal beside the app's logs, with a time range picker, and needs no query written by hand.

import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import { TELEMETRY } from "../runtime/declare/deployment.ts";
import { kqlString } from "./stages/needs.ts";
import { applyTransform, type Transform } from "./transform.ts";

export interface RunsWorkbookArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Application Insights the queries run on. */
  appInsightsId: pulumi.Input<string>;
  /** The pipeline whose runs it shows. */
  pipeline: string;
  /** Stable across deployments (a workbook's Azure name is a GUID derived from it). @example "mallard-dev" */
  namePrefix: string;
  /** @default {} */
  tags?: Record<string, string>;
  transform?: { workbook?: Transform<applicationinsights.WorkbookArgs> };
}

export class RunsWorkbook extends pulumi.ComponentResource {
  readonly workbook: applicationinsights.Workbook;

  constructor(name: string, args: RunsWorkbookArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mallard:telemetry:RunsWorkbook", name, {}, opts);
    this.workbook = this.createWorkbook(name, args);
    this.registerOutputs({ workbookId: this.workbook.id });
  }

  private createWorkbook(name: string, args: RunsWorkbookArgs): applicationinsights.Workbook {
    const [workbookArgs, opts] = applyTransform<applicationinsights.WorkbookArgs>(args.transform?.workbook, `${name}-workbook`, {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      resourceName: workbookGuid(`${args.namePrefix}/${args.pipeline}/runs`),
      kind: "shared",
      category: "workbook",
      displayName: `Mallard runs: ${args.pipeline}`,
      description: `Runs, task durations, failures and rows of pipeline ${args.pipeline}, from Mallard's telemetry.`,
      version: "Notebook/1.0",
      sourceId: pulumi.output(args.appInsightsId).apply((id) => id.toLowerCase()),
      serializedData: pulumi.output(args.appInsightsId).apply((id) => JSON.stringify(runsWorkbookContent(args.pipeline, id))),
      tags: args.tags,
    }, { parent: this });
    return new applicationinsights.Workbook(`${name}-workbook`, workbookArgs, opts);
  }
}

/** A workbook's name must be a GUID; one derived from a stable key keeps it across deployments. */
export function workbookGuid(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  // Shaped as a version-5-style UUID (name-based) so Azure accepts it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The KQL of each panel, by name: over customEvents, where the runtime's events and measurements land. */
export function runsWorkbookQueries(pipeline: string): Record<string, string> {
  const p = kqlString(pipeline);
  const events = (...names: string[]) => [
    "customEvents",
    `| where name in (${names.map(kqlString).join(", ")})`,
    `| where tostring(customDimensions.pipeline) == ${p}`,
  ];
  const runEvents = events(TELEMETRY.runFinished, TELEMETRY.runFailed);
  const taskEvents = events(TELEMETRY.taskFinished, TELEMETRY.taskFailed);
  return {
    runsOverTime: [...runEvents,
      "| extend status = tostring(customDimensions.status)",
      "| summarize runs = count() by status, bin(timestamp, {TimeRange:grain})"].join("\n"),
    runs: [...runEvents,
      "| project timestamp, runId = tostring(customDimensions.runId), status = tostring(customDimensions.status), trigger = tostring(customDimensions.trigger),",
      "    durationSeconds = round(todouble(customMeasurements.durationMs) / 1000, 1), succeeded = toint(customMeasurements.succeeded),",
      "    failed = toint(customMeasurements.failed), skipped = toint(customMeasurements.skipped), failedStage = tostring(customDimensions.stage),",
      "    error = tostring(customDimensions.error)",
      "| order by timestamp desc"].join("\n"),
    taskDurations: [...taskEvents,
      "| extend stage = tostring(customDimensions.stage), durationSeconds = todouble(customMeasurements.durationMs) / 1000",
      "| summarize tasks = count(), failed = countif(name == " + kqlString(TELEMETRY.taskFailed) + "), p50 = round(percentile(durationSeconds, 50), 1),",
      "    p95 = round(percentile(durationSeconds, 95), 1), longest = round(max(durationSeconds), 1) by stage",
      "| order by p95 desc"].join("\n"),
    taskDurationsOverTime: [...taskEvents,
      "| extend stage = tostring(customDimensions.stage), durationSeconds = todouble(customMeasurements.durationMs) / 1000",
      "| summarize seconds = sum(durationSeconds) by stage, bin(timestamp, {TimeRange:grain})"].join("\n"),
    failures: [...events(TELEMETRY.runFailed, TELEMETRY.taskFailed, TELEMETRY.checkFailed, TELEMETRY.reconcileDrift),
      "| project timestamp, event = name, runId = tostring(customDimensions.runId), stage = tostring(customDimensions.stage),",
      "    task = tostring(customDimensions.task), check = tostring(customDimensions.check), error = tostring(customDimensions.error)",
      "| order by timestamp desc"].join("\n"),
    reconciliation: [...events(TELEMETRY.reconciled),
      "| extend stage = tostring(customDimensions.stage), status = tostring(customDimensions.status)",
      "| summarize arg_max(timestamp, status, customMeasurements, customDimensions), checks = count(), drifted = countif(status != \"inSync\") by stage",
      "| project stage, lastChecked = timestamp, status, sourceRows = tolong(customMeasurements.sourceRows), lakeRows = tolong(customMeasurements.lakeRows),",
      "    missing = tolong(customMeasurements.missing), changed = tolong(customMeasurements.changed), deleted = tolong(customMeasurements.deleted),",
      "    checks, drifted, error = tostring(customDimensions.error)",
      "| order by drifted desc, stage asc"].join("\n"),
    rowsOverTime: [...events(TELEMETRY.taskFinished),
      "| summarize rowsIn = sum(todouble(customMeasurements.rowsIn)), rowsOut = sum(todouble(customMeasurements.rowsOut)) by bin(timestamp, {TimeRange:grain})"].join("\n"),
    rowsByStage: [...events(TELEMETRY.taskFinished),
      "| extend stage = tostring(customDimensions.stage)",
      "| summarize runs = dcount(tostring(customDimensions.runId)), rowsIn = sum(todouble(customMeasurements.rowsIn)), rowsOut = sum(todouble(customMeasurements.rowsOut)),",
      "    gigabytes = round(sum(todouble(customMeasurements.bytes)) / 1e9, 3) by stage",
      "| order by rowsOut desc"].join("\n"),
  };
}

type Visualization = "table" | "barchart" | "timechart" | "linechart";

/** The workbook's JSON ("Notebook/1.0"): a title, a time range, then one query panel per question. */
export function runsWorkbookContent(pipeline: string, appInsightsId: string): Record<string, unknown> {
  const q = runsWorkbookQueries(pipeline);
  const panel = (name: string, title: string, visualization: Visualization, width?: string) => ({
    type: 3,
    name,
    content: {
      version: "KqlItem/1.0", query: q[name], size: 0, title, visualization,
      timeContextFromParameter: "TimeRange", timeContext: { durationMs: 0 },
      queryType: 0, resourceType: "microsoft.insights/components",
    },
    ...(width ? { customWidth: width } : {}),
  });
  return {
    version: "Notebook/1.0",
    items: [
      { type: 1, name: "title", content: { json: `## Mallard runs: ${pipeline}\nFrom the events Mallard sends (${TELEMETRY.runFinished}, ${TELEMETRY.runFailed}, ${TELEMETRY.taskFinished}, ${TELEMETRY.taskFailed}, ${TELEMETRY.checkFailed}). Each run's report: \`GET /api/runs/<runId>/report\`.` } },
      {
        type: 9, name: "parameters",
        content: {
          version: "KqlParameterItem/1.0", style: "pills", queryType: 0, resourceType: "microsoft.insights/components",
          parameters: [{
            id: "3f7a1c52-1d0e-4a57-9c1e-6d2b9f0a7e11", version: "KqlParameterItem/1.0", name: "TimeRange", label: "Time range", type: 4, isRequired: true,
            value: { durationMs: 604_800_000 },
            typeSettings: { selectableValues: [3_600_000, 86_400_000, 604_800_000, 2_592_000_000].map((durationMs) => ({ durationMs })), allowCustom: true },
          }],
        },
      },
      panel("runsOverTime", "Runs by status", "barchart", "50"),
      panel("rowsOverTime", "Rows read and written", "timechart", "50"),
      panel("runs", "Runs", "table"),
      panel("taskDurations", "Task durations by stage (seconds)", "table", "50"),
      panel("taskDurationsOverTime", "Time spent per stage", "timechart", "50"),
      panel("failures", "Failures: runs, tasks, checks, reconciliation drift", "table"),
      panel("reconciliation", "Reconciliation with the source: latest per bronze table", "table"),
      panel("rowsByStage", "Rows and bytes by stage", "table"),
    ],
    fallbackResourceIds: [appInsightsId],
    $schema: "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
  };
}
