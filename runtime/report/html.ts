// Building HTML safely: every value put into the `html` template is escaped unless it is markup made
// by `html` itself (or marked `raw` by code that built it). Data in a report comes from sources and
// model SQL, so nothing is ever pasted into the page unescaped.

const MARKUP = Symbol("markup");

/** Markup that is already safe to insert (made by `html`, or fixed text in this code). */
export interface Markup {
  readonly [MARKUP]: true;
  readonly text: string;
}

export type Content = Markup | string | number | bigint | boolean | null | undefined | readonly Content[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Mark text as safe markup. Only for text this code wrote, never for data. */
export function raw(text: string): Markup {
  return { [MARKUP]: true, text };
}

function isMarkup(value: unknown): value is Markup {
  return typeof value === "object" && value !== null && MARKUP in value;
}

/** Render one interpolated value: markup as is, arrays joined, null and undefined as nothing, the rest escaped. */
export function render(value: Content): string {
  if (value === null || value === undefined || value === false) return "";
  if (isMarkup(value)) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<td>${value}</td>\`` escapes `value` unless it is Markup. */
export function html(strings: TemplateStringsArray, ...values: Content[]): Markup {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return raw(out);
}

/**
 * JSON for an inline `<script type="application/json">`: `<` is written as `\u003c`, so no value can
 * close the script element or open a comment, whatever it holds.
 */
export function jsonForScript(value: unknown): Markup {
  return raw(JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"));
}
