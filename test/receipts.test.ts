/**
 * A sender keeps a receipt only if it is the recipient's, about exactly the envelope sent, signed
 * by a key of the recipient that was valid when the receipt says the envelope was received
 * (PROTOCOL §8). Real nodes; the receipts below are signed with the recipient's real key.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReceiptSchema, SignedReceiptSchema } from "../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError } from "../services/errors/index.ts";
import { JWS_TYP_RECEIPT, signDetached } from "../services/identity/index.ts";
import { IDENTITY_AGE_MS, startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

let cluster: Cluster;
before(async () => {
  cluster = await startCluster([VN, CN]);
});
after(async () => {
  await cluster?.close();
});

describe("a receipt's signing key", () => {
  it("must have been valid at the receipt's received_at", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const sealed = await vn.sender.seal(wantedPersonNotice({ sender: VN, recipients: [CN] }));
    const receiptAt = async (receivedAt: Date) => {
      const receipt = toBinary(
        ReceiptSchema,
        create(ReceiptSchema, { messageId: sealed.messageId, envelopeSha256: sealed.envelopeSha256, receiverParty: CN, senderParty: VN, receivedAt: timestampFromDate(receivedAt), ledgerIndex: 1n }),
      );
      const key = cn.identity.activeSigningKey;
      const jws = await signDetached(receipt, key.privateKey, { kid: key.kid, typ: JWS_TYP_RECEIPT });
      return toBinary(SignedReceiptSchema, create(SignedReceiptSchema, { receipt, jws }));
    };
    const good = await vn.sender.verifyReceipt(await receiptAt(new Date()), sealed, CN);
    assert.equal(good.messageId, sealed.messageId);
    // CN's key is attested from IDENTITY_AGE_MS ago: a receipt dated before that is not CN's to sign.
    const before = new Date(Date.now() - IDENTITY_AGE_MS - 86400_000);
    await assert.rejects(vn.sender.verifyReceipt(await receiptAt(before), sealed, CN), (error: unknown) => {
      assert.ok(error instanceof LiaisonError);
      assert.equal(error.code, "KEY_NOT_VALID_AT_TIME");
      return true;
    });
  });
});
