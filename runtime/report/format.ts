// How numbers, sizes, durations and times read in a report.

export function formatNumber(n: number | undefined): string {
  return n === undefined ? "" : n.toLocaleString("en-US");
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `2026-11-24 15:15:28 UTC`: reports are read across time zones. */
export function formatTime(iso: string | undefined): string {
  return iso ? `${iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "")} UTC` : "";
}
