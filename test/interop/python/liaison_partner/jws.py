"""JWS (RFC 7515) compact serialization, attached and detached (Appendix F), as PROTOCOL.md §4–§6 use it."""
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from .util import b64url, b64url_decode, sha256


class JwsError(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


# ---- keys -------------------------------------------------------------------------------------

def ed25519_raw_public(key) -> bytes:
    pub = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def okp_jwk(public_raw: bytes) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_raw)}


def kid_of(public_raw: bytes) -> str:
    """RFC 7638 thumbprint, §4: base64url(SHA-256('{"crv":"Ed25519","kty":"OKP","x":"<x>"}'))."""
    thumb_input = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64url(public_raw)
    return b64url(sha256(thumb_input.encode("utf-8")))


# ---- detached EdDSA JWS (messages, receipts) --------------------------------------------------

def header_bytes(alg: str, kid: str, typ: str) -> bytes:
    return json.dumps({"alg": alg, "kid": kid, "typ": typ}, separators=(",", ":")).encode("utf-8")


def sign_detached_eddsa(key: ed25519.Ed25519PrivateKey, typ: str, payload: bytes, header: bytes | None = None) -> str:
    kid = kid_of(ed25519_raw_public(key))
    h = b64url(header if header is not None else header_bytes("EdDSA", kid, typ))
    signing_input = (h + "." + b64url(payload)).encode("ascii")
    return h + ".." + b64url(key.sign(signing_input))


def parse_detached(jws: str, typ: str) -> tuple[dict, str, bytes]:
    """§7 step 5: three parts, empty payload part, strict base64url, header with exactly alg/kid/typ."""
    if not isinstance(jws, str):
        raise JwsError("ENVELOPE_MALFORMED", "JWS is not a string")
    parts = jws.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise JwsError("ENVELOPE_MALFORMED", "JWS must have three parts with an empty payload part")
    try:
        header_raw = b64url_decode(parts[0])
        signature = b64url_decode(parts[2])
        header = json.loads(header_raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise JwsError("ENVELOPE_MALFORMED", "JWS parts are not strict base64url JSON") from None
    if not isinstance(header, dict) or set(header.keys()) != {"alg", "kid", "typ"}:
        raise JwsError("ENVELOPE_MALFORMED", "JWS header must have exactly alg, kid and typ")
    if header["alg"] != "EdDSA":
        raise JwsError("ALGORITHM_NOT_ALLOWED", "JWS alg must be EdDSA")
    if header["typ"] != typ:
        raise JwsError("ENVELOPE_MALFORMED", f"JWS typ must be {typ}")
    if not isinstance(header["kid"], str):
        raise JwsError("ENVELOPE_MALFORMED", "JWS kid must be a string")
    return header, parts[0], signature


def verify_detached_eddsa(public_raw: bytes, header_b64: str, signature: bytes, payload: bytes) -> bool:
    signing_input = (header_b64 + "." + b64url(payload)).encode("ascii")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, signing_input)
        return True
    except InvalidSignature:
        return False


# ---- RS256 (attestations, bundles) ------------------------------------------------------------

def rs256_sign(key: rsa.RSAPrivateKey, signing_input: bytes) -> bytes:
    return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def rs256_verify(public: rsa.RSAPublicKey, signature: bytes, signing_input: bytes) -> bool:
    try:
        public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def compact_rs256(key: rsa.RSAPrivateKey, header: dict, payload: bytes) -> str:
    h = b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    p = b64url(payload)
    return f"{h}.{p}.{b64url(rs256_sign(key, (h + '.' + p).encode('ascii')))}"


def detached_rs256(key: rsa.RSAPrivateKey, header_json: bytes, payload: bytes) -> str:
    h = b64url(header_json)
    return f"{h}..{b64url(rs256_sign(key, (h + '.' + b64url(payload)).encode('ascii')))}"
