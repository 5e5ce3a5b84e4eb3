// Small inline SVG charts: vertical bars (histograms, per-run series) and horizontal bars (a value per
// name). Labels are data and go through `html`, so they are escaped.

import { html, type Markup } from "./html.ts";
import { formatNumber } from "./format.ts";

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Hover text; default `label: value`. */
  readonly title?: string;
  readonly colour?: string;
}

export interface BarChartOptions {
  readonly width?: number;
  readonly height?: number;
  readonly colour?: string;
  /** Show every n-th label under the bars (default: as many as fit). */
  readonly labelEvery?: number;
  readonly ariaLabel: string;
  readonly className?: string;
  /** The smallest full-height value, so tiny values do not fill the chart (counts: 1; money: a fraction of a cent). @default 1 */
  readonly minScale?: number;
}

export function barChart(bars: readonly Bar[], options: BarChartOptions): Markup {
  const width = options.width ?? 360;
  const height = options.height ?? 140;
  const bottom = 18;
  const top = 14;
  const max = Math.max(options.minScale ?? 1, ...bars.map((b) => b.value));
  const step = bars.length ? width / bars.length : width;
  const every = options.labelEvery ?? Math.max(1, Math.ceil(bars.length / Math.max(1, Math.floor(width / 36))));
  const items = bars.map((b, i) => {
    const h = (b.value / max) * (height - bottom - top);
    const x = i * step;
    return html`<g><rect x="${x + 1}" y="${height - bottom - h}" width="${Math.max(1, step - 2)}" height="${h}" fill="${b.colour ?? options.colour ?? "#3b7dd8"}"><title>${b.title ?? `${b.label}: ${formatNumber(b.value)}`}</title></rect>${
      i % every === 0 ? html`<text class="axis" x="${x + step / 2}" y="${height - 5}" text-anchor="middle">${b.label}</text>` : ""}${
      b.value > 0 && step >= 18 ? html`<text class="axis" x="${x + step / 2}" y="${height - bottom - h - 3}" text-anchor="middle">${compact(b.value)}</text>` : ""}</g>`;
  });
  return html`<svg class="chart${options.className ? ` ${options.className}` : ""}" role="img" aria-label="${options.ariaLabel}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${items}<line class="baseline" x1="0" x2="${width}" y1="${height - bottom}" y2="${height - bottom}"/></svg>`;
}

/** Horizontal bars around zero: positive to the right, negative to the left (evidence for and against). */
export function divergingBars(bars: readonly Bar[], options: { width?: number; ariaLabel: string }): Markup {
  const width = options.width ?? 320;
  const row = 18;
  const label = 120;
  const half = (width - label - 40) / 2;
  const max = Math.max(1e-9, ...bars.map((b) => Math.abs(b.value)));
  const zero = label + half;
  const items = bars.map((b, i) => {
    const w = (Math.abs(b.value) / max) * half;
    const y = i * row;
    return html`<text class="axis" x="${label - 6}" y="${y + 13}" text-anchor="end">${b.label}</text><rect x="${b.value >= 0 ? zero : zero - w}" y="${y + 3}" width="${Math.max(1, w)}" height="${row - 6}" fill="${b.value >= 0 ? "#2e9d5b" : "#d64545"}"><title>${b.label}: ${b.value}</title></rect><text class="axis" x="${b.value >= 0 ? zero + w + 3 : zero + 3}" y="${y + 13}">${b.value.toFixed(1)}</text>`;
  });
  const height = Math.max(row, bars.length * row);
  return html`<svg class="chart" role="img" aria-label="${options.ariaLabel}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${items}<line class="baseline" x1="${zero}" x2="${zero}" y1="0" y2="${height}"/></svg>`;
}

/** 1.2k, 3.4M: a bar's value label. */
export function compact(n: number): string {
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
