/**
 * `npm run fuzz [-- --runs N] [--seed S]`: the long run of the receiver fuzz
 * (test/hostile/fuzz-receiver.ts) against a real node over mTLS. Default 5,000 cases.
 * A failure prints fast-check's counterexample and seed; replay it with --seed.
 */
import { fuzzReceiver } from "../test/hostile/fuzz-receiver.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

process.env.LIAISON_LOG_LEVEL ??= "error";
const numRuns = Number(arg("runs") ?? 5000);
const seed = arg("seed") !== undefined ? Number(arg("seed")) : undefined;
try {
  const stats = await fuzzReceiver({
    numRuns,
    ...(seed !== undefined ? { seed } : {}),
    onProgress: (done) => {
      if (done % 100 === 0) process.stderr.write(`\r  ${done}/${numRuns} cases`);
    },
  });
  process.stderr.write("\n");
  process.stdout.write(
    [
      `cases        ${stats.cases} (seed ${stats.seed})`,
      `refused      ${Object.entries(stats.refused).map(([c, n]) => `${c} ${n}`).join(", ")}`,
      `accepted     ${stats.acceptedOriginals} exact originals, ${stats.acceptedVariants} re-framed originals`,
      `honest pings ${stats.honestPings}, all answered`,
      `time         ${stats.seconds.toFixed(1)} s (${(stats.cases / stats.seconds).toFixed(1)} cases/s)`,
    ].join("\n") + "\n",
  );
  process.exit(0);
} catch (error) {
  process.stderr.write(`\nFUZZ FAILURE\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
