/**
 * Store operation latency from the MongoDB driver's command monitoring
 * (https://github.com/mongodb/specifications, "Command Logging and Monitoring"): every command a
 * connection sends emits `commandSucceeded` or `commandFailed` with its duration in ms.
 *
 * The client must be created with `new MongoClient(uri, { monitorCommands: true })` (or
 * `monitorCommands=true` in the URI): the driver freezes its connection pool's options when the
 * client is built, so turning the option on afterwards has no effect. Only the command name and
 * the duration are used: command and reply documents, which may hold protected data, are never
 * read.
 */
import type { CommandFailedEvent, CommandSucceededEvent, MongoClient } from "mongodb";
import type { NodeMetrics } from "./metrics.ts";

/** Command names are a bounded set; anything else is folded into "other". */
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

function commandLabel(name: string): string {
  return COMMAND_NAME.test(name) ? name : "other";
}

/**
 * Observe every command `client` runs in `metrics.storeCommandSeconds`. Returns a function that
 * detaches the listeners. A `TypeError` when the client was built without `monitorCommands`.
 */
export function monitorStoreCommands(client: MongoClient, metrics: NodeMetrics): () => void {
  if (!client.options.monitorCommands) {
    throw new TypeError("the MongoClient must be created with { monitorCommands: true } for store latency metrics");
  }
  const succeeded = (event: CommandSucceededEvent) => {
    metrics.storeCommandSeconds.observe({ command: commandLabel(event.commandName), outcome: "ok" }, event.duration / 1000);
  };
  const failed = (event: CommandFailedEvent) => {
    metrics.storeCommandSeconds.observe({ command: commandLabel(event.commandName), outcome: "error" }, event.duration / 1000);
  };
  client.on("commandSucceeded", succeeded);
  client.on("commandFailed", failed);
  return () => {
    client.off("commandSucceeded", succeeded);
    client.off("commandFailed", failed);
  };
}
