/** Protected parties at rest: AES-256-GCM under the node's data key, deterministic for rebuilds. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ProtectedPartySchema } from "../../gen/liaison/v1/notices_pb.ts";
import { auditEntryBytes, openProtected, quotesProtected, sealProtected } from "../../services/notices/index.ts";
import type { ProtectedReadAudit } from "../../services/notices/index.ts";

const parties = {
  informants: [create(ProtectedPartySchema, { names: [{ fullName: "Trần Thị Informant", script: "Latn", lang: "vi" }], contact: "+84 912 000 111" })],
  victims: [create(ProtectedPartySchema, { names: [{ fullName: "Lê Thị Quyên" }], nationality: "VNM" })],
};
const N = "0b6e3c1a-5f0e-4d2b-9a8c-2f1e7d3b4a50";

describe("protected parties at rest", () => {
  it("encrypts so that the ciphertext shows no name and opens with the same key", () => {
    const key = randomBytes(32);
    const sealed = sealProtected(parties, N, N, key);
    assert.equal(sealed.state, "encrypted");
    assert.equal(sealed.informants, 1);
    assert.equal(sealed.victims, 1);
    assert.ok(!Buffer.from(sealed.ciphertext!.buffer).toString("latin1").includes("Informant"));
    const opened = openProtected(sealed, N, key);
    assert.deepEqual((opened.informants[0] as { contact: string }).contact, "+84 912 000 111");
  });

  it("seals the same notice version to the same bytes, so rebuilt views equal live ones", () => {
    const key = randomBytes(32);
    const a = sealProtected(parties, N, N, key);
    const b = sealProtected(parties, N, N, key);
    assert.deepEqual(Buffer.from(a.ciphertext!.buffer), Buffer.from(b.ciphertext!.buffer));
    const other = sealProtected(parties, N, "1b6e3c1a-5f0e-4d2b-9a8c-2f1e7d3b4a50", key);
    assert.notDeepEqual(Buffer.from(a.iv!.buffer), Buffer.from(other.iv!.buffer));
  });

  it("refuses to open with another key or for another notice", () => {
    const key = randomBytes(32);
    const sealed = sealProtected(parties, N, N, key);
    assert.throws(() => openProtected(sealed, N, randomBytes(32)), { code: "INTERNAL" });
    assert.throws(() => openProtected(sealed, "1b6e3c1a-5f0e-4d2b-9a8c-2f1e7d3b4a50", key), { code: "INTERNAL" });
  });

  it("stores counts only when the node has no data key", () => {
    const sealed = sealProtected(parties, N, N, undefined);
    assert.equal(sealed.state, "redacted");
    assert.equal(sealed.ciphertext, undefined);
  });

  it("writes the audit entry as canonical JSON without any protected data", () => {
    const audit: ProtectedReadAudit = {
      kind: "protected.read",
      at: "2026-01-01T00:00:00.000Z",
      party: "VN-MPS",
      messageId: N,
      noticeId: N,
      sourceMessageId: N,
      officerId: "o1",
      roles: ["analyst"],
      fields: ["victims"],
      purpose: "victim identification for repatriation",
      granted: true,
      informants: 0,
      victims: 1,
    };
    const text = new TextDecoder().decode(auditEntryBytes(audit));
    assert.ok(text.startsWith('{"at":'));
    assert.deepEqual(Object.keys(JSON.parse(text)), [...Object.keys(audit)].sort(), "canonical: keys sorted");
    assert.ok(!text.includes("Informant") && !text.includes("Quyên"));
  });
});

describe("a purpose that quotes a protected party", () => {
  const opened = openProtected(sealProtected(parties, N, N, Buffer.alloc(32, 7)), N, Buffer.alloc(32, 7));
  const all = [...opened.informants, ...opened.victims];
  const chinese = [{ names: [{ fullName: "阮文甲" }], contact: "mai.tran@example.org" }];

  it("is caught by a full name, whatever the case and diacritics", () => {
    assert.ok(quotesProtected("to identify Lê Thị Quyên for repatriation", all));
    assert.ok(quotesProtected("to identify LE THI QUYEN", all));
    assert.ok(quotesProtected("informant tran thi informant reliability", all));
    assert.ok(quotesProtected("核实阮文甲身份", chinese));
  });

  it("is caught by a phone number in any spacing, or another contact whole", () => {
    assert.ok(quotesProtected("call back on 0912000111", all));
    assert.ok(quotesProtected("call +84-912-000-111", all));
    assert.ok(quotesProtected("write to Mai.Tran@example.org", chinese));
  });

  it("lets ordinary purposes through: references, single words that are also names, other numbers", () => {
    assert.ok(!quotesProtected("victim identification for repatriation, case VN-MPS/THB/2026/0001", all));
    assert.ok(!quotesProtected("Quyên", all), "a single word is not a full name");
    assert.ok(!quotesProtected("hotline 1900 1234", all));
    assert.ok(!quotesProtected("阮 family tracing", chinese));
  });
});
