"""Recomputes the worked examples of PROTOCOL.md §10 and §11.6 from their stated inputs.

The expected bytes are copied from the document; a mismatch means the document or this client is
wrong. Returns a list of (check, ok, detail).
"""
import json
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric import ed25519

from . import jws as J
from . import merkle as M
from . import note as N
from .util import b64, b64url, b64url_decode, sha256

DOC_MESSAGE_HEX = (
    "0a670a2430623665336331612d356630652d346432622d396138632d32663165"
    "37643362346135301206564e2d4d50531a06434e2d4d5053220608a09d90d806"
    "380242024832520f0a0d766e2d647261667465722d30375a100a0e766e2d6170"
    "70726f7665722d303252480a190a17564e2d4d50532f57414e5445442f323032"
    "362f30303031121d0a1b0a0f4e677579e1bb856e2056c4836e204112044c6174"
    "6e1a027669220c51c4902d3132332f32303236"
)
DOC_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
DOC_JWS = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsiLCJ0eXAiOiJsaWFpc29uLW1lc3NhZ2UrandzIn0"
    "..0C8lxB8RTV6sx3H2DNai1OtdHvfI0fHF3SoU5y4XbsPqbw7ztyOhFpbQOXK5WJ4MdOKjclnMs-psH2M6AsmxDA"
)
DOC_ENVELOPE_SHA256 = "176a46dc5d3791d66b2df826d22fd0199b2654a03aaab5875912923630d8bf5d"
DOC_RECEIVER_X = "7D80KDCDZOFxtYCoWJa5y7NoL_oeUgNbTTrbsLqsS3E"
DOC_RECEIVER_KID = "3yYZKWC8xPiJyZ1bpEWbiA2v4VO6-_JeZ1wd1rUiFY0"
DOC_SIGNED_RECEIPT_HEX = (
    "0a620a2430623665336331612d356630652d346432622d396138632d32663165"
    "37643362346135301220176a46dc5d3791d66b2df826d22fd0199b2654a03aaa"
    "b5875912923630d8bf5d1a06434e2d4d50532206564e2d4d50532a0608a29d90"
    "d806302912d70165794a68624763694f694a465a45525451534973496d74705a"
    "434936496a4e355756704c56304d3465464270536e6c614d574a775256646961"
    "554579646a5257547a59745830706c576a46335a44467956576c47575441694c"
    "434a30655841694f694a7361574670633239754c584a6c593256706348517261"
    "6e647a496e302e2e53396b6977456f52337270354279777a796b4e354c35515a"
    "436144332d504e6f706146335936544331572d514d43566261327058535f316e"
    "734e6a706b6e4f35494646314f53484b7a6b6348362d37506f316d774241"
)
# §11.6
DOC_LOG_VKEY = "liaison/ledger/VN-MPS+c2f4f61e+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
DOC_ENTRIES = [
    ("partner.onboarded", "2026-11-23T09:00:00Z", '{"party":"CN-MPS","fingerprint":"3f1c000000000000000000000000000000000000000000000000000000000000"}'),
    ("officer.added", "2026-11-23T09:30:00Z", '{"officerId":"vn-approver-02","username":"approver02","roles":["approver"],"by":"vn-admin-01"}'),
    ("draft.approved", "2026-11-23T10:00:00Z", '{"draftId":"d-0001","messageId":"0b6e3c1a-5f0e-4d2b-9a8c-2f1e7d3b4a50","approver":"vn-approver-02","drafter":"vn-drafter-07"}'),
]
DOC_LEAVES = [
    "64921d66fa482ecca3aad5bed309aa9dafa222d96702262e4686a7fb006fbdc0",
    "cbfaddc7959343b4234878a88a115570ec4a557e19eb9e4224680f3922046e77",
    "364ce201c1998a495668224eccc503deff69e23f0891b4f36401695548cf186b",
]
DOC_NODE10 = "af384f3780a0611214b93794ca6383ca7b976ff16d1fe29a04f943c87176289c"
DOC_ROOT = "4c27aa368d1a7b0b544a65e9599bf33a51d1514234881bfe41bdb13943c74b6c"
DOC_NOTE = (
    "liaison/ledger/VN-MPS\n3\nTCeqNo0aewtUSmXpWZvzOlHRUUI0iBv+Qb2xOUPHS2w=\n\n"
    "\u2014 liaison/ledger/VN-MPS wvT2Hk00iPdbbCkMJRgKMcHkxobjKszLhLCvd8eT8cxS/d+0nlsNrxUvngQpavWvcumGhROYnSkNorH2bSU4rAMwSQw=\n"
)
DOC_WITNESS_VKEY = "liaison/witness/CN-MPS+d270d8ea+BOw/NCgwg2ThcbWAqFiWucuzaC/6HlIDW00627C6rEtx"
DOC_COSIG_LINE = "\u2014 liaison/witness/CN-MPS 0nDY6gAAAABrBA/MpQNS8UPp2FcI0UXXSonz1NcdWzXmusrCQlSrkMmesOv4LHZ+vbgs7IoutpFVe06ah6HYX3VlBucylK7rFmfSAg==\n"

RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"


def _ts(msg, iso: str):
    msg.FromDatetime(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None))


def run(proto) -> list[tuple[str, bool, str]]:
    out = []

    def check(name, ok, detail=""):
        out.append((name, bool(ok), detail))

    sender = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    sender_pub = J.ed25519_raw_public(sender)
    check("§10 kid (RFC 7638 thumbprint)", J.kid_of(sender_pub) == DOC_KID, J.kid_of(sender_pub))

    m = proto.Message()
    h = m.header
    h.message_id = "0b6e3c1a-5f0e-4d2b-9a8c-2f1e7d3b4a50"
    h.sender_party = "VN-MPS"
    h.recipient_parties.append("CN-MPS")
    _ts(h.created_at, "2026-11-23T10:00:00Z")
    h.classification = proto.enum_value("liaison.v1.Classification", "CLASSIFICATION_RESTRICTED")
    h.handling_codes.append("H2")
    h.drafted_by.officer_id = "vn-drafter-07"
    h.approved_by.officer_id = "vn-approver-02"
    wp = m.wanted_person
    wp.summary.reference = "VN-MPS/WANTED/2026/0001"
    name = wp.person.names.add()
    name.full_name, name.script, name.lang = "Nguyễn Văn A", "Latn", "vi"
    wp.warrant_reference = "QĐ-123/2026"
    message_bytes = m.SerializeToString()
    check("§10 message bytes", message_bytes.hex() == DOC_MESSAGE_HEX, f"{len(message_bytes)} bytes")

    jws = J.sign_detached_eddsa(sender, "liaison-message+jws", message_bytes)
    check("§10 detached JWS", jws == DOC_JWS, jws)
    env = proto.SignedEnvelope(message=message_bytes, jws=jws).SerializeToString()
    check("§10 envelope hash", sha256(env).hex() == DOC_ENVELOPE_SHA256 and len(env) == 400, sha256(env).hex())

    receiver = ed25519.Ed25519PrivateKey.from_private_bytes(sha256(b"liaison worked example receiver"))
    rpub = J.ed25519_raw_public(receiver)
    check("§10 receiver key", b64url(rpub) == DOC_RECEIVER_X and J.kid_of(rpub) == DOC_RECEIVER_KID, J.kid_of(rpub))
    r = proto.Receipt(message_id=h.message_id, envelope_sha256=sha256(env), receiver_party="CN-MPS", sender_party="VN-MPS", ledger_index=41)
    _ts(r.received_at, "2026-11-23T10:00:02Z")
    rb = r.SerializeToString()
    sr = proto.SignedReceipt(receipt=rb, jws=J.sign_detached_eddsa(receiver, "liaison-receipt+jws", rb)).SerializeToString()
    check("§10 signed receipt", sr.hex() == DOC_SIGNED_RECEIPT_HEX, sr.hex()[:40])

    # §11.6
    check("§11.6 log verifier key", N.verifier_key("liaison/ledger/VN-MPS", sender_pub) == DOC_LOG_VKEY, N.verifier_key("liaison/ledger/VN-MPS", sender_pub))
    leaves = []
    for kind, at, content in DOC_ENTRIES:
        e = proto.LedgerEntry(kind=kind, content=content.encode("utf-8"))
        _ts(e.recorded_at, at)
        leaves.append(M.leaf_hash(e.SerializeToString()))
    check("§11.6 leaves", [x.hex() for x in leaves] == DOC_LEAVES, "")
    check("§11.6 node (1,0)", M.node_hash(leaves[0], leaves[1]).hex() == DOC_NODE10, "")
    root = M.mth(leaves)
    check("§11.6 root", root.hex() == DOC_ROOT, root.hex())
    text = f"liaison/ledger/VN-MPS\n3\n{b64(root)}\n"
    note = text + "\n" + N.sign_note_text(sender, "liaison/ledger/VN-MPS", text)
    check("§11.6 signed checkpoint", note == DOC_NOTE, note)
    try:
        N.open_checkpoint(DOC_NOTE, "liaison/ledger/VN-MPS", [sender_pub])
        check("§11.6 checkpoint opens", True)
    except N.NoteError as e:
        check("§11.6 checkpoint opens", False, str(e))
    # The document prints the witness's verifier key with signature type 0x04 (tlog-cosignature),
    # though §11.2 defines the verifier-key form for type 0x01 only (gap G-note-vkey in the report).
    vk4 = N.verifier_key("liaison/witness/CN-MPS", rpub, 4)
    check("§11.6 witness verifier key (type 0x04)", vk4 == DOC_WITNESS_VKEY, vk4)
    line = N.cosignature_line(receiver, "liaison/witness/CN-MPS", text, 1795428300)
    check("§11.6 cosignature line", line == DOC_COSIG_LINE, line)
    path = M.inclusion_path(0, leaves)
    check("§11.6 inclusion proof", [p.hex() for p in path] == [DOC_LEAVES[1], DOC_LEAVES[2]] and M.verify_inclusion(leaves[0], 0, 3, path, root), "")
    cons = M.consistency_proof(2, leaves)
    check("§11.6 consistency proof", [p.hex() for p in cons] == [DOC_LEAVES[2]] and M.verify_consistency(2, 3, M.mth(leaves[:2]), root, cons), "")
    # Merkle code against itself on many sizes.
    ok = True
    hs = [M.leaf_hash(bytes([i])) for i in range(20)]
    for n in range(1, 20):
        for i in range(n):
            ok &= M.verify_inclusion(hs[i], i, n, M.inclusion_path(i, hs[:n]), M.mth(hs[:n]))
        for m2 in range(1, n + 1):
            ok &= M.verify_consistency(m2, n, M.mth(hs[:m2]), M.mth(hs[:n]), M.consistency_proof(m2, hs[:n]))
    check("RFC 9162 proofs, sizes 1..19", ok)
    return out


if __name__ == "__main__":
    import sys
    from .wire import Proto
    results = run(Proto(sys.argv[1]))
    for name, ok, detail in results:
        print(("ok  " if ok else "FAIL"), name, "" if ok else detail)
    print(json.dumps({"failed": sum(1 for r in results if not r[1])}))
