"""The interoperability scenario: onboarding, exchange both ways, audit, witnessing, attacks —
against a real Liaison node. Every check names the PROTOCOL.md section it rests on; the result
is one JSON document on stdout."""
import json
import sys
import threading
import time
import traceback
import uuid

import grpc
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization

from . import jws as J
from . import merkle as M
from . import note as N
from . import pki, selftest
from .errors import Refusal
from .localapi import LocalApi
from .node import PartnerNode
from .util import b64, b64url, now_s, sha256
from .wire import Proto


def log(*a):
    print("[partner]", *a, file=sys.stderr, flush=True)


class Report:
    def __init__(self):
        self.checks = []
        self.observations = {}

    def check(self, name: str, ok: bool, detail=None):
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        log(("ok  " if ok else "FAIL"), name, "" if ok else json.dumps(detail, default=str)[:600])
        return ok

    def observe(self, name: str, value):
        self.observations[name] = value
        log("obs ", name, json.dumps(value, default=str)[:300])


def wait_for(pred, timeout: float, interval: float = 0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


class Scenario:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.P = Proto(cfg["descriptors"])
        self.R = Report()
        self.t0 = time.time()

    # ---------------------------------------------------------------------------------------
    def run(self) -> dict:
        try:
            self.worked_examples()
            self.onboard()
            self.outbound()
            self.attacks()
            self.probes()
            self.inbound()
            self.audit()
            self.witness_of_node()
            self.node_as_witness()
            self.suspension()
            self.rotation()
        except Exception as e:
            self.R.check("scenario ran to the end", False, traceback.format_exc())
        finally:
            if getattr(self, "node", None) and self.node.server:
                self.node.server.stop(0)
        self.R.observe("runtime_seconds", round(time.time() - self.t0, 1))
        return {"checks": self.R.checks, "observations": self.R.observations,
                "failed": [c["name"] for c in self.R.checks if not c["ok"]]}

    # ---------------------------------------------------------------------------------------
    def worked_examples(self):
        for name, ok, detail in selftest.run(self.P):
            self.R.check(f"{name} reproduced from the document's inputs", ok, detail)

    def onboard(self):
        R, cfg = self.R, self.cfg
        self.me = pki.load_identity(cfg["identity_dir"])
        self.party = self.me.party
        bundle_text = open(cfg["node_bundle"], encoding="utf-8").read()
        # A wrong fingerprint must refuse the bundle (§5).
        try:
            pki.import_bundle(bundle_text, "00" * 32)
            R.check("§5 import refuses a bundle whose fingerprint differs", False)
        except pki.BundleError as e:
            R.check("§5 import refuses a bundle whose fingerprint differs", e.code == "FINGERPRINT_MISMATCH", str(e))
        try:
            self.vn = pki.import_bundle(bundle_text, cfg["node_fingerprint"])
            R.check("§4–§5 the node's bundle verifies (fingerprint, CA, signature over canonical JSON, attestations)", True,
                    {"party": self.vn.party, "keys": list(self.vn.keys)})
        except pki.BundleError as e:
            R.check("§4–§5 the node's bundle verifies (fingerprint, CA, signature over canonical JSON, attestations)", False, str(e))
            raise
        self.VN = self.vn.party
        self.node = PartnerNode(self.P, self.me, {self.VN: self.vn})
        self.node.ledger.append("partner.onboarded", json.dumps({"party": self.VN, "fingerprint": self.vn.fingerprint}).encode())
        bound = self.node.serve(cfg["listen_port"])
        R.check("partner PeerApi server listening with mutual TLS", bound == cfg["listen_port"], bound)
        ident = self.node.check_server_identity(self.VN)
        R.check("§3 the node's server certificate chains to its CA and names its party in one URI", ident["ok"], ident)
        self.ch = self.node.channel(self.VN)
        self.local = LocalApi(self.P, cfg["local_address"])
        for who in ("drafter", "approver", "auditor"):
            self.local.login(who, cfg["officers"][who]["username"], cfg["officers"][who]["password"])
        # The first checkpoint the node serves, for the consistency proof later.
        wait_for(lambda: self.node_checkpoint(quiet=True), 10, 0.2)
        self.cp_first = self.node_checkpoint()

    # ---- helpers --------------------------------------------------------------------------
    def node_checkpoint(self, quiet=False):
        res = self.node.call(self.ch, "GetCheckpoint", b"")
        if not res.ok:
            if not quiet:
                self.R.check("§11.4 GetCheckpoint answers", False, res.describe())
            return None
        resp = self.P.GetCheckpointResponse()
        resp.ParseFromString(res.response)
        try:
            return N.open_checkpoint(resp.checkpoint, f"liaison/ledger/{self.VN}", [k.public for k in self.vn.keys.values()])
        except N.NoteError as e:
            self.R.check("§11.2 the node's checkpoint opens with its attested key", False, {"error": str(e), "note": resp.checkpoint})
            return None

    def deliver(self, envelope: bytes, channel=None):
        return self.node.call(channel or self.ch, "Deliver", envelope)

    def expect_refusal(self, name: str, res, code: str | None, status: grpc.StatusCode, section: str):
        problems = [] if code is None else res.consistent()
        ok = (not res.ok) and res.status == status and res.code == code and not problems
        if res.rejection is not None:
            self.R.observations.setdefault("Rejection.message_id filled per refusal", {})[name] = bool(res.rejection.message_id)
        self.R.check(f"{section} {name} → {status.name}" + (f" / {code}" if code else ""), ok,
                     {"got": res.describe(), "problems": problems})
        return ok

    def sealed(self, m, key=None, header=None):
        mb = m.SerializeToString()
        env, _ = self.node.seal(mb, key, header)
        return mb, env

    # ---- 2. exchange: this partner sends ---------------------------------------------------
    def outbound(self):
        R = self.R
        m = self.node.new_message([self.VN])
        self.out_msg = m
        mb, env = self.sealed(m)
        self.out_env = env
        res = self.deliver(env)
        if not R.check("§6 Deliver of a signed wanted-person notice is accepted", res.ok, res.describe()):
            return
        ok, why, receipt = self.node.verify_receipt(res.response, self.VN, m.header.message_id, env)
        R.check("§8 the node's signed receipt verifies (kid attested, valid at received_at, parties, id, envelope hash)", ok, why)
        self.out_receipt_bytes, self.out_receipt = res.response, receipt
        self.node.ledger.append("envelope.sent", env)
        self.node.ledger.append("receipt.received", res.response)
        # Replay: the same envelope bytes again.
        size_before = self.local.ledger_status().tree_size
        res2 = self.deliver(env)
        R.check("§7.13/§8 replayed envelope → success with the same signed receipt bytes", res2.ok and res2.response == res.response,
                res2.describe())
        size_after = self.local.ledger_status().tree_size
        R.observe("ledger tree size before/after the replay", [size_before, size_after])
        R.check("§7.13 the replay recorded nothing (node's ledger size unchanged)", size_before == size_after, [size_before, size_after])
        received = [x for x in self.local.list_received(self.party) if x.message_id == m.header.message_id]
        R.check("§7.13 the node holds the message once", len(received) == 1 and received[0].envelope == env,
                len(received))

    # ---- 4. attacks -----------------------------------------------------------------------
    def attacks(self):
        R, P, VN = self.R, self.P, self.VN
        self.attack_envelopes = {}  # name -> (envelope hash hex, code, recorded?)

        self.mid_checks = []

        def attack(name, env, code, status, section, recorded, channel=None):
            res = self.deliver(env, channel)
            self.expect_refusal(name, res, code, status, section)
            self.attack_envelopes[name] = (sha256(env).hex(), code, recorded)
            if recorded:  # the signature verified and the message decoded: its id could be read
                se = P.SignedEnvelope(); se.ParseFromString(env)
                m = P.Message()
                try:
                    m.ParseFromString(se.message)
                    self.mid_checks.append((name, m.header.message_id, None if res.rejection is None else res.rejection.message_id))
                except Exception:
                    pass
            return res

        # tampered payload byte (the signature was over the original bytes)
        m = self.node.new_message([VN])
        mb, env = self.sealed(m)
        se = P.SignedEnvelope(); se.ParseFromString(env)
        tampered = bytearray(se.message)
        tampered[-3] ^= 0x01  # inside warrant_reference / requested_action text: still a valid Message
        se.message = bytes(tampered)
        attack("tampered payload byte", se.SerializeToString(), "SIGNATURE_INVALID", grpc.StatusCode.UNAUTHENTICATED, "§7.7", False)

        # MESSAGE_ID_REUSED: the id of the delivered message, other bytes
        m = P.Message(); m.CopyFrom(self.out_msg)
        m.wanted_person.requested_action = "arrest-and-hand-over"
        attack("message id reused with a different envelope", self.sealed(m)[1], "MESSAGE_ID_REUSED",
               grpc.StatusCode.ALREADY_EXISTS, "§7.13", True)

        m = self.node.new_message(["KH-MOI"])
        attack("wrong recipient", self.sealed(m)[1], "NOT_A_RECIPIENT", grpc.StatusCode.PERMISSION_DENIED, "§7.12", True)

        m = self.node.new_message([VN], created_at=now_s() - 8 * 86400)
        attack("stale message (created 8 days ago)", self.sealed(m)[1], "MESSAGE_STALE", grpc.StatusCode.FAILED_PRECONDITION, "§7.14", True)

        m = self.node.new_message([VN], created_at=now_s() + 3600)
        attack("message from the future (+1 h)", self.sealed(m)[1], "MESSAGE_FROM_FUTURE", grpc.StatusCode.FAILED_PRECONDITION, "§7.14", True)

        m = self.node.new_message([VN])
        m.header.expires_at.FromSeconds(now_s() - 60)
        attack("expired message", self.sealed(m)[1], "MESSAGE_EXPIRED", grpc.StatusCode.FAILED_PRECONDITION, "§7.14", True)

        m = self.node.new_message([VN], created_at=self.me.valid_from - 86400)
        attack("created before the key's valid_from", self.sealed(m)[1], "KEY_NOT_VALID_AT_TIME", grpc.StatusCode.UNAUTHENTICATED, "§7.9", True)

        m = self.node.new_message([VN]); m.header.sender_party = "KH-MOI"
        attack("sender_party not the signer's party", self.sealed(m)[1], "SENDER_NOT_SIGNER", grpc.StatusCode.PERMISSION_DENIED, "§7.10", True)

        m = self.node.new_message([VN]); m.ClearField("wanted_person")
        attack("no body", self.sealed(m)[1], "SCHEMA_INVALID", grpc.StatusCode.INVALID_ARGUMENT, "§7.15", True)

        m = self.node.new_message([VN]); m.header.approved_by.officer_id = m.header.drafted_by.officer_id
        attack("drafter approved own message", self.sealed(m)[1], "TWO_PERSON_RULE", grpc.StatusCode.PERMISSION_DENIED, "§7.16", True)

        m = self.node.new_message([VN]); m.ClearField("wanted_person")
        m.notice_cancellation.reason_code = "error"; m.header.reply_to = str(uuid.uuid4())
        attack("cancellation of an unknown notice", self.sealed(m)[1], "BUSINESS_RULE", grpc.StatusCode.FAILED_PRECONDITION, "§7.17/§12.1", True)

        # oversized: above limits.maxEnvelopeBytes (default 4 MiB − 1 KiB) but within gRPC's 4 MiB
        target = 4 * 1024 * 1024 - 300
        m = self.node.new_message([VN])
        photo = m.wanted_person.person.photos.add()
        photo.media_type = "image/jpeg"
        photo.content = b"\0" * (target - 1000)
        env = self.sealed(m)[1]
        photo.content = b"\0" * (len(photo.content) + target - len(env))
        env = self.sealed(m)[1]
        R.observe("oversized envelope bytes (node limit case)", len(env))
        attack("oversized envelope (4 MiB − 300 B)", env, "ENVELOPE_TOO_LARGE", grpc.StatusCode.RESOURCE_EXHAUSTED, "§2/§7.3", False)
        photo.content = b"\0" * (len(photo.content) + 4096)
        env = self.sealed(m)[1]
        res = self.deliver(env)
        R.check("§2 request above 4 MiB → RESOURCE_EXHAUSTED from the gRPC layer", (not res.ok) and res.status == grpc.StatusCode.RESOURCE_EXHAUSTED,
                res.describe())
        R.observe("gRPC-layer size refusal carries a Liaison code?", res.code)

        attack("malformed protobuf", b"\x0a\xff\xff\xff\xff\x0f garbage", "ENVELOPE_MALFORMED", grpc.StatusCode.INVALID_ARGUMENT, "§7.4", False)
        attack("empty jws", P.SignedEnvelope(message=self.out_msg.SerializeToString()).SerializeToString(), "ENVELOPE_MALFORMED",
               grpc.StatusCode.INVALID_ARGUMENT, "§7.4", False)
        # signed bytes that are not a Message: authentic, refused at step 8 (recorded)
        attack("signed bytes that do not decode as a Message", self.node.seal(b"\x0a\x05\xff\xfe\xfd")[0], "ENVELOPE_MALFORMED",
               grpc.StatusCode.INVALID_ARGUMENT, "§7.8", True)

        kid = self.me.kid
        mb = self.node.new_message([VN]).SerializeToString()
        hdr = json.dumps({"alg": "HS256", "kid": kid, "typ": "liaison-message+jws"}, separators=(",", ":")).encode()
        attack("JWS alg HS256", self.node.seal(mb, header=hdr)[0], "ALGORITHM_NOT_ALLOWED", grpc.StatusCode.UNAUTHENTICATED, "§7.5", False)
        hdr = json.dumps({"alg": "EdDSA", "kid": kid, "typ": "liaison-message+jws", "crit": ["exp"]}, separators=(",", ":")).encode()
        attack("JWS header with a fourth member", self.node.seal(mb, header=hdr)[0], "ENVELOPE_MALFORMED", grpc.StatusCode.INVALID_ARGUMENT, "§7.5", False)
        se = P.SignedEnvelope(); se.ParseFromString(self.node.seal(mb)[0])
        h, _, s = se.jws.split(".")
        se.jws = h + "." + b64url(mb) + "." + s  # attached payload instead of detached
        attack("JWS with the payload attached", se.SerializeToString(), "ENVELOPE_MALFORMED", grpc.StatusCode.INVALID_ARGUMENT, "§7.5", False)
        attack("unattested signing key", self.node.seal(mb, key=ed25519.Ed25519PrivateKey.generate())[0], "KEY_UNKNOWN",
               grpc.StatusCode.UNAUTHENTICATED, "§7.6", False)

        # transport attacks (§3)
        fresh = self.node.new_message([VN])
        env_ok = self.sealed(fresh)[1]
        ca_key, ca_cert = pki.make_ca(self.party, "Impostor", now_s() - 3600)
        k, c = pki.make_tls(ca_key, ca_cert, self.party, now_s() - 3600)
        ch = self.node.channel(VN, pki._pem_key(k), c.public_bytes(serialization.Encoding.PEM))
        attack("client certificate of an unknown CA", env_ok, "PEER_UNKNOWN", grpc.StatusCode.UNAUTHENTICATED, "§3.2", False, ch)
        ch.close()
        k, c = pki.make_tls(self.me.ca_key, self.me.ca_cert, self.party, now_s() - 3600, uris=[pki.URN + "KH-MOI"])
        ch = self.node.channel(VN, pki._pem_key(k), c.public_bytes(serialization.Encoding.PEM))
        attack("client certificate naming another party than its CA's", env_ok, "PEER_PARTY_MISMATCH", grpc.StatusCode.PERMISSION_DENIED, "§3.3", False, ch)
        ch.close()
        k, c = pki.make_tls(self.me.ca_key, self.me.ca_cert, self.party, now_s() - 3 * 86400, days=1)
        ch = self.node.channel(VN, pki._pem_key(k), c.public_bytes(serialization.Encoding.PEM))
        attack("expired client certificate", env_ok, "PEER_UNKNOWN", grpc.StatusCode.UNAUTHENTICATED, "§3.2", False, ch)
        ch.close()
        ch = self.node.channel(VN, no_client_cert=True)
        res = self.deliver(env_ok, ch)
        ch.close()
        self.attack_envelopes["no client certificate"] = (sha256(env_ok).hex(), "PEER_CERTIFICATE_MISSING", False)
        R.observe("no client certificate: what the node answered", res.describe())
        self.expect_refusal("no client certificate", res, "PEER_CERTIFICATE_MISSING", grpc.StatusCode.UNAUTHENTICATED, "§3.1")
        missing = [{"attack": n, "message_id": want, "Rejection.message_id": got} for n, want, got in self.mid_checks if want and got != want]
        R.check("§2 a refusal's Rejection carries the message_id when it could be read (refusals at step 8 or later)",
                not missing and self.mid_checks, missing)
        # After all that, the legitimate envelope still goes through on the proper channel.
        res = self.deliver(env_ok)
        R.check("an untampered envelope still delivers after the attacks", res.ok, res.describe())
        # x-correlation-id is optional metadata and never changes the outcome (§2)
        m = self.node.new_message([VN])
        env = self.sealed(m)[1]
        res = self.node.call(self.ch, "Deliver", env, metadata=(("x-correlation-id", "not a valid id!!"),))
        R.check("§2 a malformed x-correlation-id is ignored, not refused", res.ok, res.describe())

    # ---- 2b. exchange: the node sends ------------------------------------------------------
    def inbound(self):
        R, node = self.R, self.node
        first_attempt_at = {}

        def policy(mid, attempt):
            if attempt == 1 and not first_attempt_at:
                first_attempt_at[mid] = time.time()
                return Refusal("UNAVAILABLE", "try again later (interop test: first attempt)")
            return None

        node.policy = policy
        mid = self.local.send_notice(self.party, "VN-MPS/WANTED/2026/INTEROP-1")
        self.inbound_id = mid
        got = wait_for(lambda: mid in node.received, 25, 0.1)
        attempts = node.attempts.get(mid, [])
        R.observe("node retry after UNAVAILABLE (seconds)", round(time.time() - first_attempt_at.get(mid, time.time()), 2) if got else None)
        if not R.check("§7 the node's notice reached this partner and passed every receiver check", got,
                       {"deliveries_seen": [{k: v for k, v in d.items() if k != "message"} for d in node.deliveries_seen[-5:]]}):
            return
        R.check("§2/§6 after UNAVAILABLE the node retried with identical envelope bytes",
                len(attempts) >= 2 and len(set(attempts)) == 1, attempts)
        inbound = node.received[mid]
        seen = [d for d in node.deliveries_seen if d.get("message_id") == mid and d.get("answer") == "receipt"][-1]
        msg = seen["message"]
        R.check("§6 the node's envelope: header as documented (ids, parties, two officers, created_at)",
                msg.header.sender_party == self.VN and list(msg.header.recipient_parties) == [self.party]
                and msg.header.drafted_by.officer_id != msg.header.approved_by.officer_id and msg.WhichOneof("body") == "wanted_person",
                str(msg.header))

        def receipted():
            rec = self.local.get_message(mid)
            d = [x for x in rec.deliveries if x.party == self.party]
            return d[0] if d and d[0].status == self.P.enum_value("liaison.v1.DeliveryStatus", "DELIVERY_STATUS_RECEIPTED") else None
        d = wait_for(receipted, 10, 0.2)
        R.check("§8 the node accepted this partner's signed receipt (delivery RECEIPTED at our ledger index)",
                d is not None and d.receiver_ledger_index == inbound.ledger_index,
                None if d is None else {"index": d.receiver_ledger_index, "ours": inbound.ledger_index, "attempts": d.attempts})
        self.inbound_envelope = inbound.envelope

        # A receipt that names another envelope is "not proof of delivery" (§8): what does the node do?
        node.bad_receipt = lambda m3, attempt: attempt == 1
        mid3 = self.local.send_notice(self.party, "VN-MPS/WANTED/2026/INTEROP-3")
        got = wait_for(lambda: mid3 in node.received, 8, 0.1)
        node.bad_receipt = None
        rec = self.local.get_message(mid3)
        d = [x for x in rec.deliveries if x.party == self.party]
        R.observe("the node after a receipt naming another envelope", {
            "attempts_seen_by_partner": len(node.attempts.get(mid3, [])),
            "identical_bytes": len(set(node.attempts.get(mid3, []))) == 1,
            "accepted_on_a_later_attempt": bool(got),
            "node_delivery": None if not d else {"status": d[0].status, "attempts": d[0].attempts, "last_error": d[0].last_error,
                                                 "rejection_code": d[0].rejection_code}})

        # A final refusal by this partner: the node must record it and stop.
        mid2_holder = {}

        def policy2(m2, attempt):
            if m2 != mid and m2 not in node.received:
                mid2_holder.setdefault("id", m2)
                return Refusal("BUSINESS_RULE", "this partner declines the notice (interop test)")
            return None
        node.policy = policy2
        mid2 = self.local.send_notice(self.party, "VN-MPS/WANTED/2026/INTEROP-2")
        self.refused_id = mid2

        def rejected():
            rec = self.local.get_message(mid2)
            d = [x for x in rec.deliveries if x.party == self.party]
            return d[0] if d and d[0].status == self.P.enum_value("liaison.v1.DeliveryStatus", "DELIVERY_STATUS_REJECTED") else None
        d = wait_for(rejected, 15, 0.2)
        R.check("§2/§9 the node read this partner's refusal (Rejection detail / trailer) and recorded it as final",
                d is not None and d.rejection_code == "BUSINESS_RULE",
                None if d is None else {"code": d.rejection_code, "last_error": d.last_error, "attempts": d.attempts})
        time.sleep(0.5)
        R.check("§2 a final refusal is not retried", len(node.attempts.get(mid2, [])) == 1, node.attempts.get(mid2))
        node.policy = None

    # ---- 3. audit --------------------------------------------------------------------------
    def audit(self):
        R, P = self.R, self.P
        need = self.out_receipt.ledger_index + 1 if getattr(self, "out_receipt", None) else 1
        # cover the refused notice's envelope.refused-by-partner entry too: wait a few rounds
        cp = wait_for(lambda: (lambda c: c if c and c.size >= need else None)(self.node_checkpoint(quiet=True)), 15, 0.3)
        time.sleep(2.5)
        cp = self.node_checkpoint()
        if not R.check("§11.2 the node's checkpoint opens with its attested key (origin, key id, Ed25519)", cp is not None and cp.size >= need,
                       None if cp is None else cp.note):
            return
        self.cp_last = cp
        R.check("§11.2 checkpoint text: origin, decimal size, padded base64 root, no extension lines",
                cp.origin == f"liaison/ledger/{self.VN}" and cp.extensions == [], cp.text)
        # The receipt's ledger_index: the envelope.received entry of our envelope (§11.4)
        idx = self.out_receipt.ledger_index
        res = self.node.call(self.ch, "GetEntry", P.GetEntryRequest(index=idx, tree_size=cp.size).SerializeToString())
        if R.check("§11.4 GetEntry(receipt.ledger_index, checkpoint size) answers", res.ok, res.describe()):
            ge = P.GetEntryResponse(); ge.ParseFromString(res.response)
            e = P.LedgerEntry(); e.ParseFromString(ge.entry)
            leaf = M.leaf_hash(ge.entry)
            R.check("§11.4 our entry is disclosed, kind envelope.received, content = the envelope bytes we sent",
                    not ge.withheld and e.kind == "envelope.received" and e.content == self.out_env and ge.kind == e.kind,
                    {"withheld": ge.withheld, "kind": e.kind})
            R.check("§11.5 inclusion proof (RFC 9162 §2.1.3.2) of our entry verifies against the signed root",
                    leaf == ge.leaf_hash and M.verify_inclusion(leaf, idx, cp.size, list(ge.inclusion_proof), cp.root),
                    {"proof_len": len(ge.inclusion_proof)})
        # Consistency between the first checkpoint and the latest (§11.4, §11.5)
        a, b = self.cp_first, cp
        res = self.node.call(self.ch, "GetConsistencyProof", P.GetConsistencyProofRequest(from_size=a.size, to_size=b.size).SerializeToString())
        if R.check("§11.4 GetConsistencyProof answers", res.ok, res.describe()):
            cpr = P.GetConsistencyProofResponse(); cpr.ParseFromString(res.response)
            R.check(f"§11.5 consistency proof {a.size}→{b.size} (RFC 9162 §2.1.4.2) verifies between two signed checkpoints",
                    M.verify_consistency(a.size, b.size, a.root, b.root, list(cpr.proof)), {"proof_len": len(cpr.proof)})
        # Documented edges.
        res = self.node.call(self.ch, "GetConsistencyProof", P.GetConsistencyProofRequest(from_size=a.size, to_size=0).SerializeToString())
        detail = res.describe()
        if res.ok:
            cpr = P.GetConsistencyProofResponse(); cpr.ParseFromString(res.response)
            latest = self.node_checkpoint(quiet=True)
            detail["verifies_to_latest_checkpoint"] = bool(latest) and M.verify_consistency(a.size, latest.size, a.root, latest.root, list(cpr.proof))
        R.observe("GetConsistencyProof(to_size 0): PROTOCOL.md §11.4 says not defaulted (→ INVALID_ARGUMENT); peer.proto says 0 = latest checkpoint",
                  detail)
        res = self.node.call(self.ch, "GetConsistencyProof", P.GetConsistencyProofRequest(from_size=b.size, to_size=b.size - 1).SerializeToString())
        self.expect_refusal("GetConsistencyProof from_size > to_size", res, "INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT, "§11.4")
        res = self.node.call(self.ch, "GetEntry", P.GetEntryRequest(index=b.size, tree_size=b.size).SerializeToString())
        self.expect_refusal("GetEntry index >= tree_size", res, "NOT_FOUND", grpc.StatusCode.NOT_FOUND, "§11.4")
        res = self.node.call(self.ch, "GetEntry", P.GetEntryRequest(index=0, tree_size=b.size + 10**6).SerializeToString())
        self.expect_refusal("GetEntry tree_size beyond the tree", res, "INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT, "§11.4")
        res = self.node.call(self.ch, "GetEntry", P.GetEntryRequest(index=0, tree_size=0).SerializeToString())
        if res.ok:
            ge = P.GetEntryResponse(); ge.ParseFromString(res.response)
            R.check("§11.4 GetEntry tree_size 0 = the latest signed checkpoint's size", ge.tree_size >= b.size, ge.tree_size)
        else:
            R.check("§11.4 GetEntry tree_size 0 = the latest signed checkpoint's size", False, res.describe())
        self.scan_ledger(b)

    def scan_ledger(self, cp):
        """Every entry of the checkpoint: proofs, disclosure (§11.4) and what was recorded (§7)."""
        R, P = self.R, self.P
        kinds, disclosed_bad, proofs_bad = {}, [], []
        received_copies, rejected, refused_by_partner, withheld_kinds = 0, {}, [], set()
        for i in range(cp.size):
            res = self.node.call(self.ch, "GetEntry", P.GetEntryRequest(index=i, tree_size=cp.size).SerializeToString())
            if not res.ok:
                proofs_bad.append((i, res.describe()))
                continue
            ge = P.GetEntryResponse(); ge.ParseFromString(res.response)
            kinds[ge.kind] = kinds.get(ge.kind, 0) + 1
            if not M.verify_inclusion(ge.leaf_hash, i, cp.size, list(ge.inclusion_proof), cp.root):
                proofs_bad.append((i, "proof"))
            if ge.withheld:
                withheld_kinds.add(ge.kind)
                if ge.entry:
                    disclosed_bad.append((i, "withheld but entry present"))
                continue
            if M.leaf_hash(ge.entry) != ge.leaf_hash:
                proofs_bad.append((i, "leaf_hash"))
            e = P.LedgerEntry(); e.ParseFromString(ge.entry)
            if e.kind != ge.kind:
                disclosed_bad.append((i, "kind differs"))
            if e.kind in ("envelope.received", "envelope.sent"):
                se = P.SignedEnvelope(); se.ParseFromString(e.content)
                m = P.Message(); m.ParseFromString(se.message)
                if self.party != m.header.sender_party and self.party not in m.header.recipient_parties:
                    disclosed_bad.append((i, "disclosed an envelope of another party"))
                if e.content == self.out_env:
                    received_copies += 1
            elif e.kind == "envelope.rejected":
                j = json.loads(e.content)
                rejected[j.get("envelopeSha256")] = j
                if j.get("peerParty") != self.party:
                    disclosed_bad.append((i, "disclosed another party's rejection"))
            elif e.kind == "envelope.refused-by-partner":
                refused_by_partner.append(json.loads(e.content))
            elif e.kind not in ("receipt.issued", "receipt.received"):
                disclosed_bad.append((i, f"disclosed kind {e.kind}"))
        R.observe("node ledger kinds", kinds)
        R.check(f"§11.5 every inclusion proof of the {cp.size} entries verifies against the signed root", not proofs_bad, proofs_bad[:5])
        R.check("§11.4 disclosure: only entries concerning this partner are disclosed; others withheld",
                not disclosed_bad and withheld_kinds, {"bad": disclosed_bad[:5], "withheld_kinds": sorted(withheld_kinds)})
        R.check("§7.13 the replayed envelope is recorded once (one envelope.received with its bytes)", received_copies == 1, received_copies)
        wrong = []
        for name, (h, code, recorded) in self.attack_envelopes.items():
            j = rejected.get(h)
            if recorded and (j is None or j.get("code") != code):
                wrong.append({"attack": name, "expected": code, "entry": j})
            if not recorded and j is not None:
                wrong.append({"attack": name, "expected": "not recorded", "entry": j})
        R.check("§7 refusals at step 8 or later (not step 9 as §11.1 says) are recorded as envelope.rejected {messageId, peerParty, code, reason, envelopeSha256}; earlier ones are not",
                not wrong, wrong)
        if rejected:
            R.observe("an envelope.rejected content", next(iter(rejected.values())))
        R.check("§11.1 the node recorded our final refusal as envelope.refused-by-partner {messageId, recipient, reason}",
                any(x.get("messageId") == getattr(self, "refused_id", None) and x.get("recipient") == self.party for x in refused_by_partner),
                refused_by_partner)

    # ---- 3b. this partner witnesses the node -------------------------------------------------
    def witness_of_node(self):
        R = self.R

        def cosigned_twice():
            st = self.node.witness.get(self.VN)
            return st is not None and sum(1 for r in st.requests if r.get("answer") == "cosigned") >= 2
        # The node asks on its checkpoint timer; on a busy machine the scenario can get here after a
        # single round. Grow the node's tree and wait for the next round rather than race it.
        if not cosigned_twice():
            self.deliver(self.sealed(self.node.new_message([self.VN]))[1])
            wait_for(cosigned_twice, 20, 0.2)
        state = self.node.witness.get(self.VN)
        reqs = state.requests if state else []
        R.observe("Cosign requests from the node", [{k: v for k, v in r.items() if k != "line"} for r in reqs])
        R.check("§11.4 the node asked this partner to cosign, and this witness cosigned", any(r.get("answer") == "cosigned" for r in reqs),
                [r.get("answer") for r in reqs])
        R.check("§11.4 the first Cosign request had from_size 0 and an empty proof",
                bool(reqs) and reqs[0]["from_size"] == 0 and reqs[0]["proof_len"] == 0, reqs[:1])
        R.check("§11.4 a later Cosign request carried a consistency proof from the size this witness last cosigned, and it verified",
                any(r.get("verified_proof") for r in reqs), [(r["from_size"], r.get("size"), r.get("answer")) for r in reqs])
        R.check("§11.4 every Cosign request of the node passed this witness's checks",
                all(r.get("answer") == "cosigned" for r in reqs), [r.get("answer") for r in reqs])
        # A witness restored from an older state (it last cosigned an earlier size): rule 2 refuses the
        # node's request, naming that size in the reason; "the log retries with from_size = N".
        if state and len(state.history) >= 2:
            size0, root0, note0 = state.history[0]
            state.size, state.root, state.note = size0, root0, note0
            n_before = len(state.requests)
            m = self.node.new_message([self.VN])
            self.deliver(self.sealed(m)[1])  # the node's tree grows: a new checkpoint, a new Cosign request

            def retried():
                later = state.requests[n_before:]
                refused = [i for i, r in enumerate(later) if r.get("answer") == "PROOF_INCONSISTENT"]
                return refused and any(r.get("answer") == "cosigned" and r["from_size"] == size0 for r in later[refused[0] + 1:])
            ok = wait_for(retried, 20, 0.2)
            R.check("§11.4 rule 2: after 'from_size must be … : N' the node retried with from_size = N and a proof from N",
                    ok, [(r["from_size"], r.get("size"), r.get("answer"), r.get("verified_proof")) for r in state.requests[n_before:]])
            if not ok:  # restore the witness's real state so that the rest of the scenario can go on
                state.size, state.root, state.note = state.history[-1]
        # The node serves its checkpoint with our cosignature appended (§11.3)
        mypub = J.ed25519_raw_public(self.me.signing_key)
        name = f"liaison/witness/{self.party}"

        def with_ours():
            cp = self.node_checkpoint(quiet=True)
            if not cp:
                return None
            for s in cp.signatures:
                if s.name == name and N.verify_cosignature(s, cp.text, mypub) is not None:
                    return cp
            return None
        cp = wait_for(with_ours, 20, 0.3)
        R.check("§11.3 GetCheckpoint serves the note with this witness's valid cosignature line appended", cp is not None,
                None if cp else self.node_checkpoint(quiet=True).note)
        st = self.local.ledger_status()
        R.check("the node lists this partner among the cosigners of its latest checkpoint (LocalApi GetLedgerStatus)",
                self.party in [c.party for c in st.cosigners],
                {"cosigners": [c.party for c in st.cosigners], "not_cosigned_by": list(st.not_cosigned_by)})

    # ---- 3c. the node witnesses this partner -------------------------------------------------
    def node_as_witness(self):
        R, P, led = self.R, self.P, self.node.ledger
        vn_keys = [k.public for k in self.vn.keys.values()]
        wname = f"liaison/witness/{self.VN}"

        def cosign(note, from_size, proof):
            return self.node.call(self.ch, "Cosign", P.CosignRequest(checkpoint=note, from_size=from_size,
                                                                      consistency_proof=proof).SerializeToString())

        def check_line(res, text):
            if not res.ok:
                return None
            cr = P.CosignResponse(); cr.ParseFromString(res.response)
            try:
                _, sigs = N.parse_note("x\n\n" + cr.cosignature)
            except N.NoteError:
                return None
            for s in sigs:
                if s.name == wname:
                    for pub in vn_keys:
                        ts = N.verify_cosignature(s, text, pub)
                        if ts is not None:
                            return ts
            return None

        n1 = len(led.entries)
        note1 = led.checkpoint()
        res = cosign(note1, 0, [])
        ts = check_line(res, N.parse_checkpoint(note1).text)
        R.check(f"§11.3–§11.4 the node cosigns this partner's first checkpoint (size {n1}, from_size 0): valid cosignature/v1 line",
                ts is not None and abs(ts - now_s()) < 120, res.describe())
        led.append("officer.added", b'{"officerId":"la-approver-02","username":"approver02","roles":["approver"],"by":"la-admin"}')
        led.append("draft.approved", b'{"draftId":"d-1","messageId":"x","approver":"la-approver-02","drafter":"la-drafter-01"}')
        n2 = len(led.entries)
        note2 = led.checkpoint()
        res = cosign(note2, n1, M.consistency_proof(n1, led.leaves))
        R.check(f"§11.4 the node cosigns the next checkpoint ({n1}→{n2}) with our consistency proof",
                check_line(res, N.parse_checkpoint(note2).text) is not None, res.describe())
        # refusals (§11.4 table)
        res = cosign(note2, 0, [])
        self.expect_refusal("Cosign with a from_size other than the last cosigned", res, "PROOF_INCONSISTENT",
                            grpc.StatusCode.FAILED_PRECONDITION, "§11.4 rule 2")
        R.check("§11.4 rule 2 reason names the size to retry from",
                res.rejection is not None and res.rejection.reason == f"from_size must be the size this witness last cosigned for you: {n2}",
                None if res.rejection is None else res.rejection.reason)
        other = f"liaison/ledger/KH-MOI\n{n2}\n{b64(M.mth(led.leaves))}\n"
        res = cosign(other + "\n" + N.sign_note_text(self.me.signing_key, "liaison/ledger/KH-MOI", other), n2, [])
        R.observe("Cosign: note with origin liaison/ledger/KH-MOI signed under that key name (table says CHECKPOINT_INVALID for a wrong origin)",
                  res.describe())
        res = cosign(other + "\n" + N.sign_note_text(self.me.signing_key, led.origin, other), n2, [])
        self.expect_refusal("Cosign of a note with another origin (signed under our key name)", res, "CHECKPOINT_INVALID",
                            grpc.StatusCode.INVALID_ARGUMENT, "§11.4 rule 1")
        res = cosign(note2, n2, [])
        R.observe("Cosign again of the checkpoint already cosigned (same size, same root, from_size = that size)", res.describe())
        res = cosign("not a signed note", n2, [])
        self.expect_refusal("Cosign of a malformed note", res, "CHECKPOINT_INVALID", grpc.StatusCode.INVALID_ARGUMENT, "§11.4 rule 1")
        stranger = ed25519.Ed25519PrivateKey.generate()
        t = f"{led.origin}\n{n2}\n{b64(M.mth(led.leaves))}\n"
        res = cosign(t + "\n" + N.sign_note_text(stranger, led.origin, t), n2, [])
        self.expect_refusal("Cosign of a note signed by no attested key", res, "KEY_UNKNOWN", grpc.StatusCode.UNAUTHENTICATED, "§11.4 rule 1")
        good_line = N.sign_note_text(self.me.signing_key, led.origin, t)
        bad_t = f"{led.origin}\n{n2 + 1}\n{b64(M.mth(led.leaves))}\n"
        res = cosign(bad_t + "\n" + good_line, n2, [])
        self.expect_refusal("Cosign of a note whose signature line does not verify", res, "SIGNATURE_INVALID",
                            grpc.StatusCode.UNAUTHENTICATED, "§11.4 rule 1")
        # an inconsistent history, then a fork: the node keeps evidence and raises alerts
        led.append("officer.added", b'{"officerId":"la-analyst-01","username":"analyst01","roles":["analyst"],"by":"la-admin"}')
        fake_root = sha256(b"rewritten history")
        bad = led.checkpoint(size=len(led.leaves), extra_root=fake_root)
        res = cosign(bad, n2, M.consistency_proof(n2, led.leaves))
        self.expect_refusal("Cosign of an inconsistent history", res, "PROOF_INCONSISTENT", grpc.StatusCode.FAILED_PRECONDITION, "§11.4 rule 3")
        fork = led.checkpoint(size=n2, extra_root=fake_root)
        res = cosign(fork, n2, [])
        self.expect_refusal("Cosign of a fork (same size, other root)", res, "PROOF_INCONSISTENT", grpc.StatusCode.FAILED_PRECONDITION, "§11.4 rule 3")
        st = self.local.ledger_status()
        alerts = sorted(a.kind for a in st.alerts if a.partner == self.party)
        R.check("§11.4 rule 3: the node raised alerts (inconsistent, fork) about this partner, with both signed notes as evidence",
                alerts == ["fork", "inconsistent"] and all(len(a.evidence) == 2 for a in st.alerts if a.partner == self.party),
                [{"kind": a.kind, "reason": a.reason, "evidence": len(a.evidence)} for a in st.alerts])
        # The witness.alert entries are the node's own decisions: withheld from us (§11.4), but counted.
        led.append("officer.added", b'{"officerId":"la-analyst-02","username":"analyst02","roles":["analyst"],"by":"la-admin"}')
        res = cosign(led.checkpoint(), n2, M.consistency_proof(n2, led.leaves))
        R.observe("Cosign of a genuine extension after the node raised alerts about this log", res.describe())


def main_run(cfg_path: str) -> int:
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    result = Scenario(cfg).run()
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if not result["failed"] else 1


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, wire: int, payload: bytes) -> bytes:
    return _varint(num << 3 | wire) + payload


def _ld(num: int, data: bytes) -> bytes:
    return _field(num, 2, _varint(len(data)) + data)


def _probes(self):
    """Edges the document decides (asserted) or leaves open (observed, for the report)."""
    R, P, VN = self.R, self.P, self.VN

    def deliver_message_bytes(mb: bytes, header=None):
        env = self.node.seal(mb, header=header)[0]
        return env, self.deliver(env)

    # §6: header members in any order
    m = self.node.new_message([VN]); mb = m.SerializeToString()
    hdr = json.dumps({"typ": "liaison-message+jws", "kid": self.me.kid, "alg": "EdDSA"}, separators=(",", ":")).encode()
    env, res = deliver_message_bytes(mb, hdr)
    R.check("§6 JWS header members in another order are accepted", res.ok, res.describe())
    # §6 "serialized as UTF-8 JSON exactly" — whitespace?
    m = self.node.new_message([VN]); mb = m.SerializeToString()
    hdr = b'{ "alg": "EdDSA", "kid": "' + self.me.kid.encode() + b'", "typ": "liaison-message+jws" }'
    env, res = deliver_message_bytes(mb, hdr)
    R.observe("JWS protected header with insignificant whitespace", res.describe())
    # §1: unknown fields are preserved (signed bytes) and ignored for processing
    m = self.node.new_message([VN])
    hb = m.header.SerializeToString() + _field(50, 0, _varint(7))
    rest = P.Message(); rest.CopyFrom(m); rest.ClearField("header")
    mb = _ld(1, hb) + rest.SerializeToString()
    env, res = deliver_message_bytes(mb)
    ok = res.ok
    if ok:
        sr = P.SignedReceipt(); sr.ParseFromString(res.response)
        r = P.Receipt(); r.ParseFromString(sr.receipt)
        self.unknown_field_probe = (r.ledger_index, env)
    R.check("§1 a Message with an unknown header field is accepted (unknown fields ignored for processing)", ok, res.describe())
    # §6/message.proto: a body field number the receiver does not know → SCHEMA_INVALID
    m = self.node.new_message([VN]); m.ClearField("wanted_person")
    mb = m.SerializeToString() + _ld(60, b"")
    env, res = deliver_message_bytes(mb)
    self.attack_envelopes["unknown body field only"] = (sha256(env).hex(), "SCHEMA_INVALID", True)
    self.expect_refusal("a Message whose only body is an unknown field number (60)", res, "SCHEMA_INVALID", grpc.StatusCode.INVALID_ARGUMENT, "§6/§7.15")
    m = self.node.new_message([VN])
    mb = m.SerializeToString() + _ld(60, b"")
    env, res = deliver_message_bytes(mb)
    R.observe("a Message with a known body AND an unknown body field number (60)", res.describe())
    # unknown field in SignedEnvelope
    m = self.node.new_message([VN])
    env = self.sealed(m)[1] + _ld(3, b"extra")
    res = self.deliver(env)
    detail = res.describe()
    if res.ok:
        sr = P.SignedReceipt(); sr.ParseFromString(res.response)
        r = P.Receipt(); r.ParseFromString(sr.receipt)
        detail["receipt_hash_is_of_bytes_as_sent"] = r.envelope_sha256 == sha256(env)
    R.observe("SignedEnvelope with an unknown field 3", detail)
    # step 8: canonical UUID
    m = self.node.new_message([VN]); m.header.message_id = m.header.message_id.upper()
    env = self.sealed(m)[1]
    res = self.deliver(env)
    ok = (not res.ok) and res.code in ("ENVELOPE_MALFORMED", "SCHEMA_INVALID") and not res.consistent()
    self.attack_envelopes["upper-case message id"] = (sha256(env).hex(), res.code, True)
    R.check("§7.8 upper-case (non-canonical) message_id refused at step 8", ok, res.describe())
    R.observe("step 8 code for a non-canonical message_id (ENVELOPE_MALFORMED or SCHEMA_INVALID?)", res.code)
    m = self.node.new_message([VN])
    h = uuid.uuid4().hex
    m.header.message_id = f"{h[:8]}-{h[8:12]}-7{h[13:16]}-a{h[17:20]}-{h[20:32]}"  # an RFC 9562 version-7 layout
    env, res = deliver_message_bytes(m.SerializeToString())
    R.check("§1 any RFC 9562 UUID version (here v7) is a valid message id", res.ok, res.describe())
    m = self.node.new_message([VN]); m.header.sender_party = "la-mps"
    env = self.sealed(m)[1]
    res = self.deliver(env)
    self.attack_envelopes["lower-case sender party"] = (sha256(env).hex(), res.code, True)
    R.observe("step 8 code for a sender_party that is not a party id", res.describe())
    # step 15 schema rules
    for name, mutate in (
        ("duplicate recipients", lambda m: m.header.recipient_parties.append(VN)),
        ("the sender among the recipients", lambda m: m.header.recipient_parties.append(self.party)),
        ("a lower-case handling code", lambda m: m.header.handling_codes.append("no-copy")),
        ("a thread_id that is not a UUID", lambda m: setattr(m.header, "thread_id", "thread-1")),
    ):
        m = self.node.new_message([VN]); mutate(m)
        env = self.sealed(m)[1]
        res = self.deliver(env)
        self.attack_envelopes[name] = (sha256(env).hex(), "SCHEMA_INVALID", True)
        self.expect_refusal(name, res, "SCHEMA_INVALID", grpc.StatusCode.INVALID_ARGUMENT, "§7.15")
    # step 13 and refused envelopes: is a refused message id "recorded"?
    m = self.node.new_message(["KH-MOI"])
    env = self.sealed(m)[1]
    first = self.deliver(env)
    again = self.deliver(env)
    self.attack_envelopes["wrong recipient (sent twice)"] = (sha256(env).hex(), "NOT_A_RECIPIENT", True)
    R.observe("the same refused envelope delivered again", {"first": first.code, "again": again.code})
    m.header.recipient_parties[:] = [VN]
    env2 = self.sealed(m)[1]
    res = self.deliver(env2)
    R.observe("a corrected envelope reusing the message id of a refused one", res.describe())


Scenario.probes = _probes


def _suspension(self):
    """§7 step 2a: a suspended partner's calls are refused (PEER_SUSPENDED)."""
    import subprocess
    cfg, R = self.cfg, self.R
    if not cfg.get("suspend_cmd"):
        return
    subprocess.run(cfg["suspend_cmd"], check=True, capture_output=True, timeout=60, cwd=cfg.get("repo_root"))
    m = self.node.new_message([self.VN])
    env = self.sealed(m)[1]
    res = wait_for(lambda: (lambda r: r if not r.ok else None)(self.deliver(env)), 5, 0.3)
    self.expect_refusal("a call while the node has suspended this partner", res or self.deliver(env), "PEER_SUSPENDED",
                        grpc.StatusCode.PERMISSION_DENIED, "§7.2a")
    subprocess.run(cfg["resume_cmd"], check=True, capture_output=True, timeout=60, cwd=cfg.get("repo_root"))
    res = wait_for(lambda: (lambda r: r if r.ok else None)(self.deliver(env)), 5, 0.3)
    R.check("after resume the same envelope is accepted", res is not None and res.ok, None if res is None else res.describe())


Scenario.suspension = _suspension


def _rotation(self):
    """§4 rotation: a new key attested with valid_from = now, the old key re-attested with
    retired_at = now, reaching the node in a new bundle (§5 'a later bundle … adds attestations')."""
    import subprocess
    cfg, R, me = self.cfg, self.R, self.me
    if not cfg.get("import_cmd") or not cfg.get("rotation_bundle"):
        return
    old_key, old_pub = me.signing_key, J.ed25519_raw_public(me.signing_key)
    new_key = ed25519.Ed25519PrivateKey.generate()
    t = now_s()
    atts = list(me.attestations) + [
        pki.make_attestation(me.ca_key, me.ca_cert, me.party, old_pub, me.valid_from, retired_at=t),
        pki.make_attestation(me.ca_key, me.ca_cert, me.party, J.ed25519_raw_public(new_key), t),
    ]
    bundle = pki.make_bundle(me.ca_key, me.ca_cert, me.party, me.display_names,
                             f"127.0.0.1:{cfg['listen_port']}", atts)
    with open(cfg["rotation_bundle"], "w", encoding="utf-8") as f:
        json.dump(bundle, f, ensure_ascii=False)
    subprocess.run(cfg["import_cmd"], check=True, capture_output=True, timeout=60, cwd=cfg.get("repo_root"))

    def signed(key, created):
        m = self.node.new_message([self.VN], created_at=created)
        return self.node.seal(m.SerializeToString(), key)[0]
    time.sleep(1.1)  # created_at strictly after retired_at, in whole seconds
    env = signed(new_key, now_s())
    res = wait_for(lambda: (lambda r: r if r.ok else None)(self.deliver(env)), 5, 0.3) or self.deliver(env)
    R.check("§4 after the new bundle, a message signed by the new key is accepted", res.ok, res.describe())
    res = self.deliver(signed(old_key, now_s()))
    self.expect_refusal("the retired key signing a new message", res, "KEY_NOT_VALID_AT_TIME", grpc.StatusCode.UNAUTHENTICATED, "§4/§7.9")
    res = self.deliver(signed(old_key, t - 60))
    R.check("§4 a message the old key signed before its retirement stays verifiable", res.ok, res.describe())
    env = signed(new_key, t - 60)
    res = self.deliver(env)
    self.expect_refusal("the new key signing a message dated before its valid_from", res, "KEY_NOT_VALID_AT_TIME",
                        grpc.StatusCode.UNAUTHENTICATED, "§4/§7.9")


Scenario.rotation = _rotation
