/** `npm start`: the demo starts headless, its sample data is visible through the local API, and a second start reuses it. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalApi, Direction } from "../gen/liaison/v1/local_pb.ts";
import { startDemo, type Demo } from "../services/cli/demo.ts";
import { LocalApiClient } from "../services/node/index.ts";
import { getMinutesArchive, listMinutes } from "../services/minutes/index.ts";

const dir = join(mkdtempSync(join(tmpdir(), "liaison-demo-")), "demo");
let demo: Demo | undefined;
after(async () => {
  await demo?.stop();
  rmSync(join(dir, ".."), { recursive: true, force: true });
});

describe("the demo", () => {
  it("starts three parties and sends the ministries' work through the protocol", async () => {
    demo = await startDemo({ dir, fresh: true, gateways: true });
    assert.equal(demo.seeded, true);
    assert.deepEqual([...demo.nodes.keys()], ["VN-MPS", "CN-MPS", "KH-MOI"]);
    const vn = demo.nodes.get("VN-MPS")!;
    const api = new LocalApiClient(`127.0.0.1:${vn.localApi!.port}`);
    try {
      const c = demo.credentials["VN-MPS"]!.drafter!;
      const token = (await api.call(LocalApi.method.login, { username: c.username, password: c.password })).accessToken;
      const received = await api.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED, pageSize: 100 }, token);
      const kinds = new Set(received.messages.map((m) => m.message?.body.case));
      for (const kind of ["drugCase", "humanTrafficking", "campaignReport", "minutes", "minutesCosignature", "assistanceResponse"]) {
        assert.ok(kinds.has(kind as never), `VN received a ${kind}`);
      }
      const sent = await api.call(LocalApi.method.listMessages, { direction: Direction.SENT, pageSize: 100 }, token);
      assert.ok(sent.messages.every((m) => m.deliveries.every((d) => d.status === 2)), "everything VN sent is receipted");
    } finally {
      api.close();
    }
    const [minutes] = await listMinutes(vn.db);
    const archive = await getMinutesArchive(vn.db, minutes!._id);
    assert.equal(archive?.complete, true, "the minutes are co-signed by all three parties");
    assert.equal(demo.gateways.size, 3, "each party has its console");
    for (const gateway of demo.gateways.values()) assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("reuses its data on a second start", async () => {
    await demo!.stop();
    demo = await startDemo({ dir, gateways: false });
    assert.equal(demo.seeded, false);
    const count = await demo.nodes.get("CN-MPS")!.db.collection("envelopes_received").countDocuments({});
    assert.ok(count >= 5, `CN still holds what it received (${count})`);
  });
});
