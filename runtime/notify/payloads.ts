// A notice as the body each chat expects. Teams: an Adaptive Card (1.4) in the `message` envelope that a
// Teams Workflows webhook ("When a Teams webhook request is received" → "Post card in a chat or channel")
// posts as is. Slack: Block Kit (header, section, fields, context) with a `text` fallback for
// notifications and clients without blocks. Every value is data: Slack's three control characters are
// escaped, and Teams gets plain TextBlocks whose markdown is limited to what the text holds.

import type { WebhookFormat } from "../declare/notify.ts";
import type { Notice } from "./notices.ts";

export type WebhookPayload = Record<string, unknown>;

export function payloadFor(format: WebhookFormat, notice: Notice): WebhookPayload {
  return format === "teams" ? teamsPayload(notice) : slackPayload(notice);
}

const isWebLink = (text: string) => /^https?:\/\//i.test(text);

export function teamsPayload(notice: Notice): WebhookPayload {
  const link = notice.facts.find(([label, value]) => label === "Report" && isWebLink(value))?.[1];
  return {
    type: "message",
    attachments: [{
      contentType: "application/vnd.microsoft.card.adaptive",
      contentUrl: null,
      content: {
        $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
        type: "AdaptiveCard",
        version: "1.4",
        msteams: { width: "Full" },
        body: [
          { type: "TextBlock", text: notice.title, weight: "Bolder", size: "Medium", color: notice.level === "error" ? "Attention" : "Warning", wrap: true },
          { type: "TextBlock", text: notice.summary, wrap: true },
          { type: "FactSet", facts: notice.facts.filter(([label]) => !(label === "Report" && link)).map(([title, value]) => ({ title, value })) },
        ],
        ...(link ? { actions: [{ type: "Action.OpenUrl", title: "Open the run report", url: link }] } : {}),
      },
    }],
  };
}

/** Slack's limits: 150 characters in a header, 2,000 in a field, 10 fields in a section, 3,000 in a text. */
const SLACK = { header: 150, field: 2000, fields: 10, text: 3000 } as const;

/** `&`, `<` and `>` are Slack's control characters in mrkdwn and plain text alike. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function slackPayload(notice: Notice): WebhookPayload {
  const link = notice.facts.find(([label, value]) => label === "Report" && isWebLink(value))?.[1];
  const facts = notice.facts.filter(([label]) => !(label === "Report" && link));
  const field = ([label, value]: readonly [string, string]) => ({ type: "mrkdwn", text: cut(`*${slackEscape(label)}*\n${slackEscape(value)}`, SLACK.field) });
  const sections: Record<string, unknown>[] = [];
  for (let i = 0; i < facts.length; i += SLACK.fields) sections.push({ type: "section", fields: facts.slice(i, i + SLACK.fields).map(field) });
  return {
    text: cut(`${notice.title}: ${notice.summary}`, SLACK.text),
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(`${notice.level === "error" ? "🔴" : "🟠"} ${notice.title}`, SLACK.header), emoji: true } },
      { type: "section", text: { type: "mrkdwn", text: cut(slackEscape(notice.summary), SLACK.text) } },
      ...sections,
      ...(link ? [{ type: "context", elements: [{ type: "mrkdwn", text: `<${link.replace(/[<>|]/g, encodeURIComponent)}|Open the run report>` }] }] : []),
    ],
  };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
