"""The partner node: its ledger, its PeerApi server (receiver §7, receipts §8, witness §11.4) and
its PeerApi client (sender §6, receipt verification §8, auditor §11)."""
import json
import socket
import ssl
import threading
import time
import uuid
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from google.protobuf.message import DecodeError

from . import jws as J
from . import merkle as M
from . import note as N
from . import pki
from .errors import CallResult, Refusal, abort, from_rpc_error
from .util import HANDLING_RE, PARTY_RE, UUID_RE, b64, now_s, sha256

PEER = "/liaison.v1.PeerApi/"
NOTICE_BODIES = {"wanted_person", "drug_case", "human_trafficking", "telecom_fraud"}
FOLLOW_UPS = {"notice_update", "notice_cancellation", "partner_response"}
MAX_AGE_S = 7 * 86400
SKEW_S = 300


def _raw(x):
    return x


class Ledger:
    """An in-memory RFC 9162 log of this partner (§11.1), signed as liaison/ledger/<PARTY>."""

    def __init__(self, proto, party: str, signing_key):
        self.proto, self.origin, self.key = proto, f"liaison/ledger/{party}", signing_key
        self.entries: list[bytes] = []
        self.leaves: list[bytes] = []
        self.lock = threading.Lock()
        self.checkpoints: dict[int, str] = {}

    def append(self, kind: str, content: bytes) -> int:
        e = self.proto.LedgerEntry(kind=kind, content=content)
        e.recorded_at.GetCurrentTime()
        b = e.SerializeToString()
        with self.lock:
            self.entries.append(b)
            self.leaves.append(M.leaf_hash(b))
            return len(self.entries) - 1

    def checkpoint(self, size: int | None = None, extra_root: bytes | None = None) -> str:
        with self.lock:
            n = len(self.leaves) if size is None else size
            root = extra_root if extra_root is not None else M.mth(self.leaves[:n])
        text = f"{self.origin}\n{n}\n{b64(root)}\n"
        note = text + "\n" + N.sign_note_text(self.key, self.origin, text)
        if extra_root is None:
            self.checkpoints[n] = note
        return note


@dataclass
class Inbound:
    envelope: bytes
    message_id: str
    receipt: bytes
    ledger_index: int
    sender: str


@dataclass
class WitnessState:
    size: int = 0
    root: bytes = b""
    note: str = ""
    requests: list = field(default_factory=list)  # what each Cosign request looked like, and our answer
    history: list = field(default_factory=list)  # every (size, root, note) cosigned, oldest first


class PartnerNode:
    def __init__(self, proto, identity: pki.Identity, partners: dict):
        self.proto, self.me, self.partners = proto, identity, partners  # party -> PartnerInfo
        self.ledger = Ledger(proto, identity.party, identity.signing_key)
        self.received: dict[str, Inbound] = {}
        self.rejected: list[dict] = []
        self.deliveries_seen: list[dict] = []  # every Deliver call: sha256, message id, our answer
        self.witness: dict[str, WitnessState] = {}
        self.lock = threading.Lock()
        self.delivered = threading.Condition()
        self.cosigned = threading.Condition()
        # Test hook: policy(message_id, attempt number from 1) -> a Refusal to answer instead of
        # accepting, or None. Lets the scenario make the node retry or record a refusal.
        self.policy = None
        self.bad_receipt = None  # Test hook: bad_receipt(message_id, attempt) -> True to answer a wrong receipt
        self.attempts: dict[str, list[str]] = {}  # message id -> envelope hashes of every attempt
        self.server = None

    # ---- keys -----------------------------------------------------------------------------

    def find_key(self, kid: str):
        for info in self.partners.values():
            if kid in info.keys:
                return info.party, info.keys[kid]
        return None, None

    # ---- client side ----------------------------------------------------------------------

    def channel(self, party: str, tls_key_pem: bytes | None = None, tls_cert_pem: bytes | None = None, no_client_cert=False):
        info = self.partners[party]
        if no_client_cert:
            creds = grpc.ssl_channel_credentials(root_certificates=info.ca_pem.encode("ascii"))
        else:
            creds = grpc.ssl_channel_credentials(
                root_certificates=info.ca_pem.encode("ascii"),
                private_key=tls_key_pem or self.me.pem("tls_key"),
                certificate_chain=tls_cert_pem or self.me.pem("tls"))
        # A fresh connection per channel (no sharing of subchannels between identities).
        return grpc.secure_channel(info.endpoint, creds, options=[("grpc.use_local_subchannel_pool", 1),
                                                                   ("grpc.max_receive_message_length", 8 << 20)])

    def call(self, channel, method: str, request: bytes, timeout: float = 30.0, metadata=None) -> CallResult:
        fn = channel.unary_unary(PEER + method, request_serializer=_raw, response_deserializer=_raw)
        try:
            return CallResult(True, fn(request, timeout=timeout, metadata=metadata))
        except grpc.RpcError as e:
            return from_rpc_error(self.proto, e)

    def check_server_identity(self, party: str) -> dict:
        """§3 'What a client accepts': the server certificate chains to the partner's CA only and
        names the partner's party in its one urn:liaison:party: URI. Checked with a TLS handshake
        of our own (gRPC does not show the peer certificate to a client)."""
        info = self.partners[party]
        host, port = info.endpoint.rsplit(":", 1)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False  # §3: host-name checks are not required
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=info.ca_pem)
        ctx.set_alpn_protocols(["h2"])
        import tempfile, os
        with tempfile.TemporaryDirectory() as d:
            cf, kf = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            open(cf, "wb").write(self.me.pem("tls"))
            open(kf, "wb").write(self.me.pem("tls_key"))
            ctx.load_cert_chain(cf, kf)
        with socket.create_connection((host, int(port)), timeout=10) as s:
            with ctx.wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
                version = t.version()
        cert = x509.load_der_x509_certificate(der)
        uris = pki.cert_party_uris(cert)
        return {"tls_version": version, "uris": uris, "ok": uris == [pki.URN + party] and pki.verify_signed_by(cert, info.ca_cert)}

    def new_message(self, recipients: list[str], created_at: int | None = None, body: str = "wanted_person"):
        m = self.proto.Message()
        h = m.header
        h.message_id = str(uuid.uuid4())
        h.sender_party = self.me.party
        h.recipient_parties.extend(recipients)
        h.created_at.FromSeconds(now_s() if created_at is None else created_at)
        h.classification = self.proto.enum_value("liaison.v1.Classification", "CLASSIFICATION_RESTRICTED")
        h.handling_codes.append("H2")
        h.drafted_by.officer_id, h.drafted_by.display_name, h.drafted_by.role = "la-drafter-01", "Drafter One", "drafter"
        h.approved_by.officer_id, h.approved_by.display_name, h.approved_by.role = "la-approver-01", "Approver One", "approver"
        h.languages.extend(["lo", "en"])
        if body == "wanted_person":
            wp = m.wanted_person
            wp.summary.reference = f"{self.me.party}/WANTED/2026/{h.message_id[:8]}"
            t = wp.summary.title.add()
            t.lang, t.text = "en", "Wanted for telecom fraud"
            n = wp.person.names.add()
            n.full_name, n.script, n.lang = "ສົມສັກ ແກ້ວມະນີ", "Laoo", "lo"
            n2 = wp.person.names.add()
            n2.full_name, n2.script, n2.lang, n2.transliteration, n2.scheme = "Somsak Keomany", "Latn", "lo", True, "BGN/PCGN"
            wp.person.nationalities.append("LAO")
            wp.warrant_reference = "LA-MPS/W/2026/77"
            wp.requested_action = "locate"
        return m

    def seal(self, message_bytes: bytes, key=None, header: bytes | None = None) -> tuple[bytes, str]:
        """§6: sign the message bytes once (detached JWS) and wrap them in a SignedEnvelope."""
        jws = J.sign_detached_eddsa(key or self.me.signing_key, "liaison-message+jws", message_bytes, header)
        return self.proto.SignedEnvelope(message=message_bytes, jws=jws).SerializeToString(), jws

    def verify_receipt(self, signed_receipt: bytes, partner: str, message_id: str, envelope: bytes) -> tuple[bool, str, object]:
        """§8: the sender's checks of a receipt."""
        sr = self.proto.SignedReceipt()
        try:
            sr.ParseFromString(signed_receipt)
            r = self.proto.Receipt()
            r.ParseFromString(sr.receipt)
        except DecodeError:
            return False, "receipt does not decode", None
        try:
            header, h64, sig = J.parse_detached(sr.jws, "liaison-receipt+jws")
        except J.JwsError as e:
            return False, str(e), r
        party, key = self.find_key(header["kid"])
        if party != partner:
            return False, f"receipt kid {header['kid']} is not an attested key of {partner}", r
        if not J.verify_detached_eddsa(key.public, h64, sig, sr.receipt):
            return False, "receipt JWS does not verify", r
        if not r.HasField("received_at") or not key.valid_at(r.received_at.seconds):
            return False, "receipt key not valid at received_at", r
        if r.receiver_party != partner or r.sender_party != self.me.party:
            return False, "receipt names other parties", r
        if r.message_id != message_id or r.envelope_sha256 != sha256(envelope):
            return False, "receipt names another envelope", r
        return True, "", r

    # ---- server side ----------------------------------------------------------------------

    def serve(self, port: int, host: str = "127.0.0.1"):
        roots = "".join(p.ca_pem for p in self.partners.values()).encode("ascii")
        creds = grpc.ssl_server_credentials([(self.me.pem("tls_key"), self.me.pem("tls"))], root_certificates=roots,
                                            require_client_auth=True)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                             options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(self._guard(fn), request_deserializer=_raw, response_serializer=_raw)
            for name, fn in (("Deliver", self._deliver), ("Cosign", self._cosign), ("GetCheckpoint", self._get_checkpoint),
                             ("GetEntry", self._get_entry), ("GetConsistencyProof", self._get_consistency))
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("liaison.v1.PeerApi", handlers),))
        bound = server.add_secure_port(f"{host}:{port}", creds)
        server.start()
        self.server = server
        return bound

    def _guard(self, fn):
        def handler(request: bytes, context):
            try:
                party = self._transport_party(context)
                return fn(request, party)
            except Refusal as r:
                abort(self.proto, context, r)
            except Exception as e:  # a bug of ours: INTERNAL, with nothing of the cause in the answer
                import traceback
                traceback.print_exc()
                abort(self.proto, context, Refusal("INTERNAL", "the receiver failed; retry later"))
        return handler

    def _transport_party(self, context) -> str:
        """§3 checks 1–3 (the TLS layer already required a certificate chaining to a partner CA)."""
        auth = context.auth_context()
        pems = auth.get("x509_pem_cert")
        if not pems:
            raise Refusal("PEER_CERTIFICATE_MISSING", "no client certificate")
        cert = x509.load_pem_x509_certificate(pems[0])
        for info in self.partners.values():
            if cert.issuer == info.ca_cert.subject and pki.verify_signed_by(cert, info.ca_cert):
                now = now_s()
                if not (pki.within_validity(cert, now) and pki.within_validity(info.ca_cert, now)):
                    raise Refusal("PEER_UNKNOWN", "client certificate expired or not yet valid")
                uris = pki.cert_party_uris(cert)
                if uris != [pki.URN + info.party]:
                    raise Refusal("PEER_PARTY_MISMATCH", "client certificate names a party other than its CA's")
                return info.party
        raise Refusal("PEER_UNKNOWN", "client certificate not issued by an onboarded partner CA")

    # Deliver: §7
    def _deliver(self, envelope: bytes, transport_party: str) -> bytes:
        env_hash = sha256(envelope)
        seen = {"sha256": env_hash.hex(), "from": transport_party, "at": time.time(), "bytes": len(envelope)}
        self.deliveries_seen.append(seen)
        try:
            receipt = self._receive(envelope, env_hash, transport_party, seen)
            seen["answer"] = "receipt"
            return receipt
        except Refusal as r:
            seen["answer"] = r.code
            raise

    def _receive(self, envelope: bytes, env_hash: bytes, transport_party: str, seen: dict) -> bytes:
        P = self.proto
        # 4
        se = P.SignedEnvelope()
        try:
            se.ParseFromString(envelope)
        except DecodeError:
            raise Refusal("ENVELOPE_MALFORMED", "the envelope does not decode") from None
        if not se.message or not se.jws:
            raise Refusal("ENVELOPE_MALFORMED", "message and jws must both be present")
        # 5
        try:
            header, h64, sig = J.parse_detached(se.jws, "liaison-message+jws")
        except J.JwsError as e:
            raise Refusal(e.code, e.reason) from None
        # 6
        key_party, key = self.find_key(header["kid"])
        if key is None:
            raise Refusal("KEY_UNKNOWN", "the signing key is not attested by any known party")
        # 7
        if not J.verify_detached_eddsa(key.public, h64, sig, se.message):
            raise Refusal("SIGNATURE_INVALID", "the signature does not verify")
        # 8 onwards: authentic, refusals are recorded
        m = P.Message()
        try:
            m.ParseFromString(se.message)
        except DecodeError:
            return self._reject("ENVELOPE_MALFORMED", "the message does not decode", "", transport_party, env_hash)
        h = m.header
        mid = h.message_id if UUID_RE.match(h.message_id or "") else ""
        seen["message_id"] = h.message_id
        if not m.HasField("header") or not mid or not PARTY_RE.match(h.sender_party) or not h.HasField("created_at"):
            return self._reject("SCHEMA_INVALID", "header, message_id, sender_party and created_at are required", mid, transport_party, env_hash)
        created = h.created_at.seconds
        if not key.valid_at(created):  # 9
            return self._reject("KEY_NOT_VALID_AT_TIME", "the key was not valid at created_at", mid, transport_party, env_hash)
        if h.sender_party != key_party:  # 10
            return self._reject("SENDER_NOT_SIGNER", "sender_party is not the key's party", mid, transport_party, env_hash)
        if key_party != transport_party:  # 11
            return self._reject("SENDER_NOT_PEER", "the key's party is not the TLS peer", mid, transport_party, env_hash)
        if self.me.party not in h.recipient_parties:  # 12
            return self._reject("NOT_A_RECIPIENT", "this party is not among the recipients", mid, transport_party, env_hash)
        with self.lock:  # 13
            earlier = self.received.get(mid)
            if earlier is not None:
                if sha256(earlier.envelope) == env_hash:
                    seen["replay"] = True
                    return earlier.receipt
                return self._reject("MESSAGE_ID_REUSED", "the message id was recorded with a different envelope", mid, transport_party, env_hash)
        now = now_s()  # 14
        if created > now + SKEW_S:
            return self._reject("MESSAGE_FROM_FUTURE", "created_at is ahead of this receiver's clock", mid, transport_party, env_hash)
        if created < now - MAX_AGE_S:
            return self._reject("MESSAGE_STALE", "created_at is older than the maximum age", mid, transport_party, env_hash)
        if h.HasField("expires_at") and h.expires_at.seconds <= now:
            return self._reject("MESSAGE_EXPIRED", "the message has expired", mid, transport_party, env_hash)
        body = m.WhichOneof("body")  # 15
        rec = list(h.recipient_parties)
        if (not rec or len(set(rec)) != len(rec) or not all(PARTY_RE.match(p) for p in rec) or h.sender_party in rec
                or any(x and not UUID_RE.match(x) for x in (h.thread_id, h.reply_to))
                or not all(HANDLING_RE.match(c) for c in h.handling_codes) or body is None):
            return self._reject("SCHEMA_INVALID", "a schema rule does not hold", mid, transport_party, env_hash)
        if not h.drafted_by.officer_id or not h.approved_by.officer_id or h.drafted_by.officer_id == h.approved_by.officer_id:  # 16
            return self._reject("TWO_PERSON_RULE", "drafting and approving officers missing or the same", mid, transport_party, env_hash)
        if body in FOLLOW_UPS and h.reply_to not in self.received:  # 17 (the rules this partner can check)
            return self._reject("BUSINESS_RULE", "reply_to does not name a notice this receiver knows", mid, transport_party, env_hash)
        attempts = self.attempts.setdefault(mid, [])
        attempts.append(env_hash.hex())
        if self.policy is not None:
            r = self.policy(mid, len(attempts))
            if r is not None:
                r.message_id = mid
                raise r
        if self.bad_receipt is not None and self.bad_receipt(mid, len(attempts)):
            # Test hook: answer with a receipt that names another envelope, and record nothing.
            r = P.Receipt(message_id=mid, envelope_sha256=sha256(b"not your envelope"), receiver_party=self.me.party,
                          sender_party=h.sender_party, ledger_index=0)
            r.received_at.FromSeconds(now_s())
            rb = r.SerializeToString()
            seen["answer_kind"] = "bad receipt"
            return P.SignedReceipt(receipt=rb, jws=J.sign_detached_eddsa(self.me.signing_key, "liaison-receipt+jws", rb)).SerializeToString()
        # accepted: ledger, then receipt (§7 end, §8)
        with self.lock:
            if mid in self.received:  # concurrent duplicate
                raise Refusal("UNAVAILABLE", "the same message is being recorded concurrently", mid)
            index = self.ledger.append("envelope.received", envelope)
            r = P.Receipt(message_id=mid, envelope_sha256=env_hash, receiver_party=self.me.party,
                          sender_party=h.sender_party, ledger_index=index)
            r.received_at.FromSeconds(now_s())
            rb = r.SerializeToString()
            signed = P.SignedReceipt(receipt=rb, jws=J.sign_detached_eddsa(self.me.signing_key, "liaison-receipt+jws", rb)).SerializeToString()
            self.ledger.append("receipt.issued", signed)
            self.received[mid] = Inbound(envelope, mid, signed, index, h.sender_party)
        seen["message"] = m
        with self.delivered:
            self.delivered.notify_all()
        return signed

    def _reject(self, code, reason, mid, peer, env_hash):
        self.ledger.append("envelope.rejected", json.dumps(
            {"messageId": mid, "peerParty": peer, "code": code, "reason": reason, "envelopeSha256": env_hash.hex()}).encode())
        self.rejected.append({"messageId": mid, "code": code})
        raise Refusal(code, reason, mid)

    # Witness: §11.4 Cosign
    def _cosign(self, request: bytes, party: str) -> bytes:
        P = self.proto
        req = P.CosignRequest()
        try:
            req.ParseFromString(request)
        except DecodeError:
            raise Refusal("CHECKPOINT_INVALID", "the request does not decode") from None
        state = self.witness.setdefault(party, WitnessState())
        record = {"from_size": req.from_size, "proof_len": len(req.consistency_proof), "at": time.time()}
        state.requests.append(record)
        try:
            line = self._cosign_checked(req, party, state, record)
            record["answer"] = "cosigned"
            return P.CosignResponse(cosignature=line).SerializeToString()
        except (Refusal, N.NoteError) as e:
            record["answer"] = e.code
            if isinstance(e, N.NoteError):
                raise Refusal(e.code, e.reason) from None
            raise
        finally:
            with self.cosigned:
                self.cosigned.notify_all()

    def _cosign_checked(self, req, party, state, record) -> str:
        keys = [k.public for k in self.partners[party].keys.values()]
        cp = N.open_checkpoint(req.checkpoint, f"liaison/ledger/{party}", keys)  # 1
        record["size"] = cp.size
        if req.from_size != state.size:  # 2
            raise Refusal("PROOF_INCONSISTENT", f"from_size must be the size this witness last cosigned for you: {state.size}")
        proof = list(req.consistency_proof)
        if state.size and cp.size == state.size and cp.root != state.root:
            self._alert(party, "fork", state.note, req.checkpoint)
            raise Refusal("PROOF_INCONSISTENT", "a checkpoint of this size was cosigned with another root (fork)")
        if cp.size < state.size:
            raise Refusal("PROOF_INCONSISTENT", "the checkpoint is smaller than the last one cosigned")
        if state.size == 0 and proof:
            raise Refusal("PROOF_INCONSISTENT", "a consistency proof from size 0 must be empty")
        if state.size and not M.verify_consistency(state.size, cp.size, state.root, cp.root, proof):
            self._alert(party, "inconsistent", state.note, req.checkpoint)
            raise Refusal("PROOF_INCONSISTENT", "the consistency proof does not verify")
        record["verified_proof"] = bool(state.size) and cp.size > state.size
        state.size, state.root, state.note = cp.size, cp.root, req.checkpoint
        state.history.append((cp.size, cp.root, req.checkpoint))
        ts = now_s()
        line = N.cosignature_line(self.me.signing_key, f"liaison/witness/{self.me.party}", cp.text, ts)
        record["line"] = line
        return line

    def _alert(self, partner, kind, a, b):
        self.ledger.append("witness.alert", json.dumps({"partner": partner, "kind": kind, "reason": kind, "evidence": [a, b]}).encode())

    # Ledger reads: §11.4
    def _get_checkpoint(self, request: bytes, party: str) -> bytes:
        if not self.ledger.entries:
            raise Refusal("NOT_FOUND", "no checkpoint yet")
        return self.proto.GetCheckpointResponse(checkpoint=self.ledger.checkpoint()).SerializeToString()

    def _get_entry(self, request: bytes, party: str) -> bytes:
        req = self.proto.GetEntryRequest()
        try:
            req.ParseFromString(request)
        except DecodeError:
            raise Refusal("ENVELOPE_MALFORMED", "the request does not decode") from None
        with self.ledger.lock:
            leaves, entries = list(self.ledger.leaves), list(self.ledger.entries)
        size = req.tree_size or max(self.ledger.checkpoints or [len(leaves)])
        if size > len(leaves):
            raise Refusal("INVALID_ARGUMENT", "tree_size is beyond this ledger")
        if req.index >= size:
            raise Refusal("NOT_FOUND", "the entry is not in the tree of that size")
        e = self.proto.LedgerEntry()
        e.ParseFromString(entries[req.index])
        disclosed = self._concerns(e, party)
        return self.proto.GetEntryResponse(
            index=req.index, kind=e.kind, entry=entries[req.index] if disclosed else b"", tree_size=size,
            inclusion_proof=M.inclusion_path(req.index, leaves[:size]), leaf_hash=leaves[req.index], withheld=not disclosed,
        ).SerializeToString()

    def _concerns(self, e, party: str) -> bool:
        P = self.proto
        try:
            if e.kind in ("envelope.sent", "envelope.received"):
                se = P.SignedEnvelope(); se.ParseFromString(e.content)
                m = P.Message(); m.ParseFromString(se.message)
                return party == m.header.sender_party or party in m.header.recipient_parties
            if e.kind in ("receipt.issued", "receipt.received"):
                sr = P.SignedReceipt(); sr.ParseFromString(e.content)
                r = P.Receipt(); r.ParseFromString(sr.receipt)
                return party in (r.sender_party, r.receiver_party)
            if e.kind == "envelope.rejected":
                return json.loads(e.content).get("peerParty") == party
            if e.kind == "envelope.refused-by-partner":
                return json.loads(e.content).get("recipient") == party
        except Exception:
            return False
        return False

    def _get_consistency(self, request: bytes, party: str) -> bytes:
        req = self.proto.GetConsistencyProofRequest()
        try:
            req.ParseFromString(request)
        except DecodeError:
            raise Refusal("ENVELOPE_MALFORMED", "the request does not decode") from None
        with self.ledger.lock:
            leaves = list(self.ledger.leaves)
        if not (req.from_size <= req.to_size <= len(leaves)):
            raise Refusal("INVALID_ARGUMENT", "sizes must satisfy from_size <= to_size <= tree size")
        return self.proto.GetConsistencyProofResponse(proof=M.consistency_proof(req.from_size, leaves[:req.to_size])).SerializeToString()
