/**
 * Test helpers for code that reads the environment or logs: run with some variables set, and
 * capture every log line written meanwhile.
 */
import { PassThrough } from "node:stream";
import winston from "winston";
import { rootLogger } from "../../services/logging/index.ts";

/** Runs `run` with these environment variables set (undefined: unset), then restores them. */
export async function withEnv<T>(vars: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await run();
  } finally {
    apply(saved);
  }
}

/** The log lines written (at every level) while `run` runs. */
export async function captureLogs(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const transport = new winston.transports.Stream({ stream: sink, level: "silly" });
  const level = rootLogger.level;
  rootLogger.level = "silly";
  rootLogger.add(transport);
  try {
    await run();
  } finally {
    rootLogger.remove(transport);
    rootLogger.level = level;
  }
  return lines.join("");
}
