import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { run, rawExchange, opMsg, replyBody, type Running } from "./helpers.ts";

function header(length: number, opCode: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(7, 4);
  b.writeInt32LE(0, 8);
  b.writeInt32LE(opCode, 12);
  return b;
}

describe("embedded store: bad input on a raw socket", () => {
  let r: Running;
  before(async () => {
    r = await run();
  });
  after(async () => r.stop());

  async function stillServes(): Promise<void> {
    const reply = await rawExchange(r.store.port, opMsg({ ping: 1, $db: "admin" }));
    assert.ok(reply, "server answers the next client");
    assert.equal(replyBody(reply).ok, 1);
    assert.equal((await r.client.db("admin").command({ ping: 1 })).ok, 1);
  }

  it("answers malformed BSON with an error reply and keeps serving", async () => {
    const good = opMsg({ insert: "x", documents: [{ a: 1 }], $db: "bad" });
    const broken = Buffer.from(good);
    broken.writeInt32LE(999, 21); // BSON length beyond the message
    const reply = await rawExchange(r.store.port, broken);
    if (reply) {
      const body = replyBody(reply);
      assert.equal(body.ok, 0);
      assert.equal(typeof body.code, "number");
    }
    assert.equal(await r.client.db("bad").collection("x").countDocuments(), 0, "nothing was written");
    await stillServes();
  });

  it("closes the connection on a message length below the header size", async () => {
    const reply = await rawExchange(r.store.port, Buffer.concat([header(8, 2013), Buffer.alloc(8)]));
    assert.equal(reply, null);
    await stillServes();
  });

  it("closes the connection on a message length above maxMessageSizeBytes", async () => {
    const reply = await rawExchange(r.store.port, header(48_000_001, 2013));
    assert.equal(reply, null);
    await stillServes();
  });

  it("closes the connection on an unknown opcode", async () => {
    const reply = await rawExchange(r.store.port, Buffer.concat([header(26, 4242), Buffer.alloc(10)]));
    assert.equal(reply, null);
    await stillServes();
  });

  it("rejects an OP_MSG whose CRC-32C checksum does not match", async () => {
    const msg = opMsg({ ping: 1, $db: "admin" });
    const withSum = Buffer.concat([msg, Buffer.from([1, 2, 3, 4])]);
    withSum.writeInt32LE(withSum.length, 0);
    withSum.writeUInt32LE(1, 16); // checksumPresent
    const reply = await rawExchange(r.store.port, withSum);
    assert.ok(reply);
    assert.equal(replyBody(reply).ok, 0);
    await stillServes();
  });

  it("answers an unknown command with 59 CommandNotFound", async () => {
    const reply = await rawExchange(r.store.port, opMsg({ fooBar: 1, $db: "admin" }));
    assert.ok(reply);
    const body = replyBody(reply);
    assert.equal(body.code, 59);
    assert.equal(body.codeName, "CommandNotFound");
    assert.equal(body.errmsg, "no such command: 'fooBar'");
  });

  it("answers the legacy OP_QUERY isMaster handshake with OP_REPLY", async () => {
    const q = Buffer.from((await import("mongodb")).BSON.serialize({ isMaster: 1 }));
    const name = Buffer.from("admin.$cmd\0");
    const body = Buffer.concat([Buffer.alloc(4), name, Buffer.from([0, 0, 0, 0, 255, 255, 255, 255]), q]);
    const msg = Buffer.concat([header(16 + body.length, 2004), body]);
    const reply = await rawExchange(r.store.port, msg);
    assert.ok(reply);
    assert.equal(reply.readInt32LE(12), 1, "OP_REPLY");
    const doc = (await import("mongodb")).BSON.deserialize(reply.subarray(36));
    assert.equal(doc.ismaster, true);
    assert.equal(doc.setName, "liaison");
  });
});
