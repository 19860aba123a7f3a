/**
 * Server monitoring through the official driver: the embedded store advertises a topologyVersion,
 * so the driver monitors it with the streaming protocol (an awaitable hello with exhaustAllowed).
 * The store must stream replies with moreToCome set, as mongod does; a single plain reply made the
 * driver fail every heartbeat ("Server ended moreToCome unexpectedly") and clear its pool each time.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { run, type Running } from "./helpers.ts";

let store: Running;
before(async () => {
  store = await run();
});
after(async () => {
  await store?.stop();
});

describe("driver monitoring (streaming protocol)", () => {
  it("heartbeats succeed, awaited, and the pool is never cleared", async () => {
    const client = new MongoClient(store.store.uri, { heartbeatFrequencyMS: 500, serverMonitoringMode: "stream" });
    const events = { succeeded: 0, awaited: 0, failed: [] as string[], cleared: 0 };
    client.on("serverHeartbeatSucceeded", (e) => {
      events.succeeded++;
      if (e.awaited) events.awaited++;
    });
    client.on("serverHeartbeatFailed", (e) => events.failed.push(String(e.failure?.message ?? e.failure)));
    client.on("connectionPoolCleared", () => events.cleared++);
    try {
      await client.connect();
      const coll = client.db("monitoring").collection("t");
      const deadline = Date.now() + 2500;
      for (let i = 0; Date.now() < deadline; i++) {
        await coll.insertOne({ i });
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(events.failed, [], "no heartbeat failed");
      assert.equal(events.cleared, 0, "the connection pool was never cleared");
      assert.ok(events.awaited >= 2, `streamed (awaited) heartbeats: ${events.awaited} of ${events.succeeded}`);
    } finally {
      await client.close();
    }
  });
});
