"""§9: every refusal code and its one gRPC status; encoding and decoding of refusals (§2)."""
import grpc

STATUS = {
    "PEER_CERTIFICATE_MISSING": grpc.StatusCode.UNAUTHENTICATED,
    "PEER_UNKNOWN": grpc.StatusCode.UNAUTHENTICATED,
    "PEER_PARTY_MISMATCH": grpc.StatusCode.PERMISSION_DENIED,
    "PEER_SUSPENDED": grpc.StatusCode.PERMISSION_DENIED,
    "RATE_LIMITED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "PEER_CALL_TIMEOUT": grpc.StatusCode.DEADLINE_EXCEEDED,
    "ENVELOPE_TOO_LARGE": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "ENVELOPE_MALFORMED": grpc.StatusCode.INVALID_ARGUMENT,
    "ALGORITHM_NOT_ALLOWED": grpc.StatusCode.UNAUTHENTICATED,
    "KEY_UNKNOWN": grpc.StatusCode.UNAUTHENTICATED,
    "SIGNATURE_INVALID": grpc.StatusCode.UNAUTHENTICATED,
    "KEY_NOT_VALID_AT_TIME": grpc.StatusCode.UNAUTHENTICATED,
    "SENDER_NOT_SIGNER": grpc.StatusCode.PERMISSION_DENIED,
    "SENDER_NOT_PEER": grpc.StatusCode.PERMISSION_DENIED,
    "NOT_A_RECIPIENT": grpc.StatusCode.PERMISSION_DENIED,
    "MESSAGE_ID_REUSED": grpc.StatusCode.ALREADY_EXISTS,
    "MESSAGE_FROM_FUTURE": grpc.StatusCode.FAILED_PRECONDITION,
    "MESSAGE_STALE": grpc.StatusCode.FAILED_PRECONDITION,
    "MESSAGE_EXPIRED": grpc.StatusCode.FAILED_PRECONDITION,
    "SCHEMA_INVALID": grpc.StatusCode.INVALID_ARGUMENT,
    "TWO_PERSON_RULE": grpc.StatusCode.PERMISSION_DENIED,
    "BUSINESS_RULE": grpc.StatusCode.FAILED_PRECONDITION,
    "PROOF_INCONSISTENT": grpc.StatusCode.FAILED_PRECONDITION,
    "CHECKPOINT_INVALID": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "INVALID_ARGUMENT": grpc.StatusCode.INVALID_ARGUMENT,
    "UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "INTERNAL": grpc.StatusCode.INTERNAL,
}

STATUS_NUMBER = {s: s.value[0] for s in grpc.StatusCode}


class Refusal(Exception):
    """A refusal this partner gives (server side)."""

    def __init__(self, code: str, reason: str, message_id: str = ""):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason, self.message_id = code, reason, message_id

    @property
    def status(self) -> grpc.StatusCode:
        return STATUS[self.code]


def abort(proto, context, r: Refusal):
    """§2: grpc-message "<CODE>: <reason>", trailer liaison-rejection-code, grpc-status-details-bin."""
    rejection = proto.Rejection(code=r.code, reason=r.reason, message_id=r.message_id)
    any_cls = proto.cls("google.protobuf.Any")
    status = proto.cls("google.rpc.Status")(code=r.status.value[0], message=f"{r.code}: {r.reason}")
    status.details.append(any_cls(type_url="type.googleapis.com/liaison.v1.Rejection", value=rejection.SerializeToString()))
    context.set_trailing_metadata((
        ("liaison-rejection-code", r.code),
        ("grpc-status-details-bin", status.SerializeToString()),
    ))
    context.abort(r.status, f"{r.code}: {r.reason}")


class CallResult:
    """The outcome of one call this partner made (client side)."""

    def __init__(self, ok: bool, response: bytes = b"", status=None, message: str = "", trailer_code: str | None = None,
                 rejection=None, status_detail_code: int | None = None):
        self.ok, self.response, self.status, self.message = ok, response, status, message
        self.trailer_code, self.rejection, self.status_detail_code = trailer_code, rejection, status_detail_code

    @property
    def code(self) -> str | None:
        """The Liaison code: from the Rejection detail, else the trailer."""
        if self.rejection is not None:
            return self.rejection.code
        return self.trailer_code

    def describe(self) -> dict:
        if self.ok:
            return {"ok": True, "bytes": len(self.response)}
        return {
            "status": self.status.name if self.status else None,
            "grpc_message": self.message,
            "trailer_code": self.trailer_code,
            "rejection": None if self.rejection is None else {
                "code": self.rejection.code, "reason": self.rejection.reason, "message_id": self.rejection.message_id},
            "status_detail_code": self.status_detail_code,
        }

    def consistent(self) -> list[str]:
        """Everything §2 says of a refusal that does not hold here."""
        if self.ok:
            return ["not a refusal"]
        problems = []
        if self.rejection is None:
            problems.append("no liaison.v1.Rejection in grpc-status-details-bin")
        if self.trailer_code is None:
            problems.append("no liaison-rejection-code trailer")
        code = self.code
        if self.rejection is not None and self.trailer_code is not None and self.rejection.code != self.trailer_code:
            problems.append("trailer code != Rejection.code")
        if code is not None:
            if code in STATUS and STATUS[code] != self.status:
                problems.append(f"{code} should be {STATUS[code].name}, got {self.status.name}")
            if self.rejection is not None and self.message != f"{code}: {self.rejection.reason}":
                problems.append(f"grpc-message {self.message!r} is not '<CODE>: <reason>'")
        if self.status_detail_code is not None and self.status is not None and self.status_detail_code != self.status.value[0]:
            problems.append("google.rpc.Status.code differs from the call's status")
        return problems


def from_rpc_error(proto, e: grpc.RpcError) -> CallResult:
    trailer_code, rejection, detail_code = None, None, None
    for k, v in (e.trailing_metadata() or ()):
        if k == "liaison-rejection-code":
            trailer_code = v
        elif k == "grpc-status-details-bin":
            st = proto.cls("google.rpc.Status")()
            st.ParseFromString(v)
            detail_code = st.code
            for d in st.details:
                if d.type_url == "type.googleapis.com/liaison.v1.Rejection":
                    rejection = proto.Rejection()
                    rejection.ParseFromString(d.value)
    return CallResult(False, status=e.code(), message=e.details() or "", trailer_code=trailer_code, rejection=rejection,
                      status_detail_code=detail_code)
