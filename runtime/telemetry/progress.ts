// Progress of a long extraction: rows so far, rows per second and, when the source could estimate the
// table's size, an ETA. A stage reports rows as it reads them (often: every CSV block); a meter turns
// that into a snapshot, and what shows it decides how often: the terminal redraws on its own timer (and a
// non-terminal shows none), the Functions host sends at most one telemetry event per interval per task.

/** What a stage says: rows read so far in this task, and the source's estimate of the rows it will read. */
export interface ProgressUpdate {
  readonly rows: number;
  readonly total?: number;
}

export interface ProgressSnapshot {
  readonly rows: number;
  readonly total?: number;
  readonly elapsedMs: number;
  /** Rows per second since the task's first row was asked for (0 in its first moment). */
  readonly rowsPerSecond: number;
  /** Seconds left at that rate; undefined without an estimate, or once the estimate is passed. */
  readonly etaSeconds?: number;
}

export type Clock = () => number;

/** Turns updates into snapshots for one task. */
export class ProgressMeter {
  private readonly started: number;
  private last: ProgressUpdate = { rows: 0 };

  constructor(private readonly clock: Clock = Date.now) {
    this.started = clock();
  }

  observe(update: ProgressUpdate): void {
    this.last = update;
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = Math.max(0, this.clock() - this.started);
    const { rows, total } = this.last;
    const rowsPerSecond = elapsedMs > 0 ? (rows * 1000) / elapsedMs : 0;
    const etaSeconds = total !== undefined && total > rows && rowsPerSecond > 0 ? (total - rows) / rowsPerSecond : undefined;
    return { rows, ...(total !== undefined ? { total } : {}), elapsedMs, rowsPerSecond, ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
  }
}

/** True at most once per interval; the first time only after one interval has passed (short tasks say nothing). */
export class Throttle {
  private next: number;

  constructor(private readonly intervalMs: number, private readonly clock: Clock = Date.now) {
    this.next = clock() + intervalMs;
  }

  ready(): boolean {
    const now = this.clock();
    if (now < this.next) return false;
    this.next = now + this.intervalMs;
    return true;
  }
}

/** `1,234,567 of ~5,000,000 rows (25%) · 412,345 rows/s · ETA 9 s`; without an estimate the count and rate only. */
export function formatProgress(s: ProgressSnapshot): string {
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  const of = s.total !== undefined && s.total > 0
    ? ` of ~${n(s.total)} rows (${Math.min(99, Math.floor((100 * s.rows) / s.total))}%)`
    : " rows";
  const rate = s.elapsedMs >= 1000 ? ` · ${n(s.rowsPerSecond)} rows/s` : "";
  const eta = s.etaSeconds !== undefined && s.elapsedMs >= 1000 ? ` · ETA ${formatEta(s.etaSeconds)}` : "";
  return `${n(s.rows)}${of}${rate}${eta}`;
}

/** `9 s`, `3 min 12 s`, `1 h 05 min`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** A stage's progress reports, metered and passed on at most once per `intervalMs` (the Functions host's telemetry). */
export function throttledProgress(intervalMs: number, send: (snapshot: ProgressSnapshot) => void, clock: Clock = Date.now): (update: ProgressUpdate) => void {
  const meter = new ProgressMeter(clock);
  const throttle = new Throttle(intervalMs, clock);
  return (update) => {
    meter.observe(update);
    if (throttle.ready()) send(meter.snapshot());
  };
}
