"""Encodings of PROTOCOL.md §1 and §5 (base64url, base64, canonical JSON, fingerprints)."""
import base64
import binascii
import hashlib
import json
import re
import time
from datetime import datetime, timezone

PARTY_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,16}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HANDLING_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict RFC 4648 §5 without padding: no '=', no other alphabet, no non-canonical tail bits."""
    if not isinstance(text, str) or not B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not strict base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise ValueError(f"not base64: {e}") from None
    if b64(raw) != text:
        raise ValueError("non-canonical base64")
    return raw


def _utf16_key(s: str) -> bytes:
    # JavaScript's default sort compares UTF-16 code units; big-endian UTF-16 bytes compare alike.
    return s.encode("utf-16-be", "surrogatepass")


def canonical_json(value) -> bytes:
    """§5 canonical JSON: sorted members (UTF-16 order), no whitespace, JSON.stringify escaping, integers only."""
    def enc(v) -> str:
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            raise ValueError("canonical JSON carries integers only")
        if isinstance(v, str):
            # ensure_ascii=False: only '"', '\\' and control characters are escaped (lowercase \u00xx),
            # exactly as JSON.stringify does.
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(enc(x) for x in v) + "]"
        if isinstance(v, dict):
            keys = sorted(v.keys(), key=_utf16_key)
            return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + enc(v[k]) for k in keys) + "}"
        raise TypeError(f"cannot encode {type(v)}")
    return enc(value).encode("utf-8")


def normalize_fingerprint(fp: str) -> str:
    """Both forms of §1 (lowercase hex, upper-case colon pairs) to lowercase hex."""
    s = fp.strip().replace(":", "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", s):
        raise ValueError(f"not a SHA-256 fingerprint: {fp!r}")
    return s


def now_s() -> int:
    return int(time.time())


def rfc3339_ms(t: float) -> str:
    d = datetime.fromtimestamp(t, tz=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
