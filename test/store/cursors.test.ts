import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MongoServerError, type Db } from "mongodb";
import { run, type Running } from "./helpers.ts";

describe("embedded store: abandoned cursors are cleaned up", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("cursors");
    await db.collection<{ _id: number }>("c").insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
  });
  after(async () => r.stop());

  async function openCursor(extra: Record<string, unknown> = {}): Promise<unknown> {
    const reply = await db.command({ find: "c", batchSize: 2, ...extra });
    assert.notEqual(Number(reply.cursor.id), 0);
    return reply.cursor.id;
  }

  async function getMoreCode(id: unknown, extra: Record<string, unknown> = {}): Promise<number | undefined> {
    try {
      await db.command({ getMore: id, collection: "c", batchSize: 2, ...extra });
      return undefined;
    } catch (e) {
      assert.ok(e instanceof MongoServerError);
      return Number(e.code);
    }
  }

  it("closes a cursor idle for longer than cursorTimeoutMillis (CursorNotFound on getMore)", async () => {
    const admin = r.client.db("admin");
    const was = await admin.command({ setParameter: 1, cursorTimeoutMillis: 1000 });
    try {
      const idle = await openCursor();
      const busy = await openCursor();
      for (let i = 0; i < 4; i++) {
        await new Promise((res) => setTimeout(res, 100));
        assert.equal(await getMoreCode(busy), undefined);
      }
      await new Promise((res) => setTimeout(res, 2500));
      assert.equal(await getMoreCode(idle), 43);
    } finally {
      await admin.command({ setParameter: 1, cursorTimeoutMillis: Number(was.was) });
    }
    const param = await admin.command({ getParameter: 1, cursorTimeoutMillis: 1 });
    assert.equal(Number(param.cursorTimeoutMillis), 600000);
  });

  it("closes a session's cursors when the session ends", async () => {
    const s = r.client.startSession();
    const reply = await db.command({ find: "c", batchSize: 2 }, { session: s });
    const id = reply.cursor.id;
    await r.client.db("admin").command({ endSessions: [s.id] });
    assert.equal(await getMoreCode(id), 43);
    await s.endSession();
  });

  it("killCursors reports killed and unknown cursors", async () => {
    const id = await openCursor();
    const res = await db.command({ killCursors: "c", cursors: [id] });
    assert.equal(res.cursorsKilled.length, 1);
    const again = await db.command({ killCursors: "c", cursors: [id] });
    assert.equal(again.cursorsNotFound.length, 1);
    assert.equal(await getMoreCode(id), 43);
  });
});
