"""Test orchestration only, not the partner protocol: drives the Liaison node's own LocalApi
(docs/LOCAL_API.md, plaintext gRPC on loopback) as its officers would, so that the node sends
this partner a notice, and reads what the node recorded."""
import grpc

from .errors import from_rpc_error


class LocalApi:
    def __init__(self, proto, address: str):
        self.proto = proto
        self.channel = grpc.insecure_channel(address)
        self.tokens = {}

    def _call(self, method: str, req, resp_cls: str, who: str | None = None):
        fn = self.channel.unary_unary("/liaison.v1.LocalApi/" + method, request_serializer=lambda m: m.SerializeToString(),
                                      response_deserializer=lambda b: b)
        md = (("authorization", "Bearer " + self.tokens[who]),) if who else None
        try:
            raw = fn(req, timeout=30, metadata=md)
        except grpc.RpcError as e:
            r = from_rpc_error(self.proto, e)
            raise RuntimeError(f"LocalApi.{method}: {r.describe()}") from None
        out = self.proto.cls("liaison.v1." + resp_cls)()
        out.ParseFromString(raw)
        return out

    def login(self, who: str, username: str, password: str):
        r = self._call("Login", self.proto.LoginRequest(username=username, password=password), "LoginResponse")
        self.tokens[who] = r.access_token
        return r.officer

    def send_notice(self, recipient: str, reference: str) -> str:
        """Drafter drafts a wanted-person notice to `recipient`; the approver approves (two-person rule)."""
        P = self.proto
        m = P.Message()
        m.header.recipient_parties.append(recipient)
        m.header.classification = P.enum_value("liaison.v1.Classification", "CLASSIFICATION_RESTRICTED")
        m.header.handling_codes.append("H2")
        m.header.languages.extend(["vi", "en"])
        wp = m.wanted_person
        wp.summary.reference = reference
        t = wp.summary.title.add()
        t.lang, t.text = "en", "Wanted: fraud ring organiser"
        n = wp.person.names.add()
        n.full_name, n.script, n.lang = "Trần Văn B", "Latn", "vi"
        wp.warrant_reference = "QĐ-456/2026"
        wp.requested_action = "locate"
        draft = self._call("CreateDraft", P.CreateDraftRequest(message=m), "Draft", "drafter")
        rec = self._call("ApproveDraft", P.ApproveDraftRequest(draft_id=draft.draft_id), "MessageRecord", "approver")
        return rec.message_id

    def get_message(self, message_id: str):
        return self._call("GetMessage", self.proto.GetMessageRequest(message_id=message_id), "MessageRecord", "approver")

    def list_received(self, partner: str):
        P = self.proto
        req = P.ListMessagesRequest(direction=P.enum_value("liaison.v1.Direction", "DIRECTION_RECEIVED"), partner=partner, page_size=500)
        return self._call("ListMessages", req, "ListMessagesResponse", "approver").messages

    def ledger_status(self):
        return self._call("GetLedgerStatus", self.proto.GetLedgerStatusRequest(), "LedgerStatus", "auditor")
