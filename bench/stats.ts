/** Small helpers the benchmarks share: timing, percentiles, progress on stderr. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i]!;
}

export interface RunResult {
  operations: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * Run `operation` `total` times with `concurrency` in flight, recording each latency.
 * Progress goes to stderr so the printed figures stay clean.
 */
export async function measure(label: string, total: number, concurrency: number, operation: (i: number) => Promise<unknown>): Promise<RunResult> {
  const latencies: number[] = new Array(total);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => process.stderr.write(`\r  ${label}: ${done}/${total}   `), 500);
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await operation(i);
      latencies[i] = performance.now() - t0;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(progress);
    process.stderr.write(`\r  ${label}: ${done}/${total} done\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { operations: total, seconds, perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export function formatRun(name: string, r: RunResult): string {
  return `${name.padEnd(48)} ${r.perSecond.toFixed(0).padStart(8)} ops/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms`;
}
