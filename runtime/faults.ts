// Crash points for fault tests: when MALLARD_CRASH_AT names this point, the process dies on the spot
// (SIGKILL, like an instance being recycled), so tests can prove a crash leaves the lake consistent.
// Costs one environment lookup when unset.

export function crashPoint(name: string): void {
  const target = process.env.MALLARD_CRASH_AT;
  if (target && target === name) process.kill(process.pid, "SIGKILL");
}
