"""A party's identity (PROTOCOL.md §3–§5): CA, node TLS certificate, signing keys, attestations,
partner bundles — made, and verified when a partner's bundle is imported."""
import datetime as dt
import ipaddress
import json
import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import jws as J
from .util import PARTY_RE, b64, b64_decode, b64url, b64url_decode, canonical_json, normalize_fingerprint, now_s, rfc3339_ms, sha256

URN = "urn:liaison:party:"
BUNDLE_MEMBERS = {"format", "party", "display_names", "endpoint", "ca_certificate", "signing_key_attestations", "issued_at", "signature"}
ATTESTATION_MEMBERS_REQUIRED = {"iss", "party", "kid", "jwk", "use", "valid_from", "iat"}
BUNDLE_HEADER = b'{"alg":"RS256","typ":"liaison-partner-bundle+jws"}'


class BundleError(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _utc(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(t), tz=dt.timezone.utc).replace(tzinfo=None)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def make_ca(party: str, display_name: str, not_before: float, years: int = 10):
    """§3 CA certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, party),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{display_name} Liaison Root CA"),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_utc(not_before)).not_valid_after(_utc(not_before + years * 365 * 86400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(URN + party)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_tls(ca_key, ca_cert, party: str, not_before: float, uris: list[str] | None = None, days: int = 365,
             dns: tuple = ("localhost",), ips: tuple = ("127.0.0.1",)):
    """§3 node TLS certificate (server and client). `uris` overrides the one party URI (attacks)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sans = [x509.UniformResourceIdentifier(u) for u in (uris if uris is not None else [URN + party])]
    sans += [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, party),
                                 x509.NameAttribute(NameOID.COMMON_NAME, f"{party} Liaison node")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_utc(not_before)).not_valid_after(_utc(not_before + days * 86400))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def make_attestation(ca_key, ca_cert, party: str, signing_pub: bytes, valid_from: int, retired_at: int | None = None) -> str:
    """§4 attestation: compact JWS, RS256 by the CA key."""
    header = {"alg": "RS256", "typ": "liaison-key-attestation+jwt", "x5c": [b64(ca_cert.public_bytes(serialization.Encoding.DER))]}
    payload = {
        "iss": URN + party, "party": party, "kid": J.kid_of(signing_pub), "jwk": J.okp_jwk(signing_pub),
        "use": "message-signing", "valid_from": int(valid_from), "iat": now_s(),
    }
    if retired_at is not None:
        payload["retired_at"] = int(retired_at)
    return J.compact_rs256(ca_key, header, canonical_json(payload))


def fingerprint(ca_cert) -> str:
    return sha256(ca_cert.public_bytes(serialization.Encoding.DER)).hex()


def colon_fingerprint(fp: str) -> str:
    return ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()


def make_bundle(ca_key, ca_cert, party: str, display_names: dict, endpoint: str, attestations: list[str]) -> dict:
    """§5 partner bundle, signed (detached RS256) over the canonical JSON of the other members."""
    body = {
        "format": "liaison-partner-bundle/v1",
        "party": party,
        "display_names": display_names,
        "endpoint": endpoint,
        "ca_certificate": ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "signing_key_attestations": attestations,
        "issued_at": rfc3339_ms(now_s()),
    }
    return {**body, "signature": J.detached_rs256(ca_key, BUNDLE_HEADER, canonical_json(body))}


# ---- verification ---------------------------------------------------------------------------

def cert_party_uris(cert) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith(URN)]


def verify_signed_by(cert, issuer) -> bool:
    from cryptography.hazmat.primitives.asymmetric import padding
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        return True
    except Exception:
        return False


def within_validity(cert, at: float) -> bool:
    t = _utc(at)
    return cert.not_valid_before <= t <= cert.not_valid_after


def is_ca(cert) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


@dataclass
class SigningKey:
    kid: str
    public: bytes
    valid_from: int
    retired_at: int | None = None

    def valid_at(self, t: int) -> bool:
        return self.valid_from <= t and (self.retired_at is None or t < self.retired_at)


@dataclass
class PartnerInfo:
    party: str
    ca_pem: str
    ca_cert: object
    endpoint: str
    display_names: dict
    keys: dict = field(default_factory=dict)  # kid -> SigningKey
    fingerprint: str = ""


def verify_attestation(att: str, ca_cert, party: str) -> SigningKey:
    """§4: x5c[0] byte-for-byte the trusted CA, RS256 by it, party/iss, kid = thumbprint(jwk)."""
    parts = att.split(".") if isinstance(att, str) else []
    if len(parts) != 3 or not all(parts):
        raise BundleError("ATTESTATION_INVALID", "attestation is not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        raise BundleError("ATTESTATION_INVALID", "attestation parts do not decode") from None
    if not isinstance(header, dict) or set(header) != {"alg", "typ", "x5c"} or header["alg"] != "RS256" or header["typ"] != "liaison-key-attestation+jwt":
        raise BundleError("ATTESTATION_INVALID", f"attestation header must be exactly alg RS256, typ, x5c: {sorted(header)}")
    if not isinstance(header["x5c"], list) or not header["x5c"] or b64_decode(header["x5c"][0]) != ca_cert.public_bytes(serialization.Encoding.DER):
        raise BundleError("ATTESTATION_INVALID", "x5c[0] is not the partner's CA certificate")
    if not J.rs256_verify(ca_cert.public_key(), signature, (parts[0] + "." + parts[1]).encode("ascii")):
        raise BundleError("ATTESTATION_INVALID", "attestation signature does not verify with the CA")
    members = set(payload)
    if not ATTESTATION_MEMBERS_REQUIRED <= members or not members <= ATTESTATION_MEMBERS_REQUIRED | {"retired_at"}:
        raise BundleError("ATTESTATION_INVALID", f"attestation payload members: {sorted(members)}")
    if payload["party"] != party or payload["iss"] != URN + party or payload["use"] != "message-signing":
        raise BundleError("ATTESTATION_INVALID", "attestation names another party or use")
    jwk = payload["jwk"]
    if not isinstance(jwk, dict) or set(jwk) != {"kty", "crv", "x"} or jwk["kty"] != "OKP" or jwk["crv"] != "Ed25519":
        raise BundleError("ATTESTATION_INVALID", "jwk must be an Ed25519 OKP key")
    pub = b64url_decode(jwk["x"])
    if len(pub) != 32 or J.kid_of(pub) != payload["kid"]:
        raise BundleError("ATTESTATION_INVALID", "kid is not the RFC 7638 thumbprint of jwk")
    for k in ("valid_from", "iat") + (("retired_at",) if "retired_at" in payload else ()):
        if not isinstance(payload[k], int) or isinstance(payload[k], bool):
            raise BundleError("ATTESTATION_INVALID", f"{k} must be an integer")
    return SigningKey(payload["kid"], pub, payload["valid_from"], payload.get("retired_at"))


def merge_key(keys: dict, k: SigningKey) -> None:
    """§4 rotation: the latest valid_from and the earliest retired_at win."""
    old = keys.get(k.kid)
    if old is None:
        keys[k.kid] = k
        return
    old.valid_from = max(old.valid_from, k.valid_from)
    if k.retired_at is not None:
        old.retired_at = k.retired_at if old.retired_at is None else min(old.retired_at, k.retired_at)


def import_bundle(bundle_text: str, expected_fingerprint: str) -> PartnerInfo:
    """§5 import checks, in the document's order."""
    try:
        b = json.loads(bundle_text)
    except ValueError:
        raise BundleError("BUNDLE_INVALID", "bundle is not JSON") from None
    if not isinstance(b, dict) or set(b) != BUNDLE_MEMBERS:
        raise BundleError("BUNDLE_INVALID", f"bundle members must be exactly {sorted(BUNDLE_MEMBERS)}")
    if b["format"] != "liaison-partner-bundle/v1" or not isinstance(b["party"], str) or not PARTY_RE.match(b["party"]):
        raise BundleError("BUNDLE_INVALID", "bad format or party")
    if not isinstance(b["display_names"], dict) or not b["display_names"]:
        raise BundleError("BUNDLE_INVALID", "display_names must name the party in at least one language")
    try:
        ca_cert = x509.load_pem_x509_certificate(b["ca_certificate"].encode("ascii"))
    except Exception:
        raise BundleError("BUNDLE_INVALID", "ca_certificate is not a PEM certificate") from None
    fp = fingerprint(ca_cert)
    want = normalize_fingerprint(expected_fingerprint)
    if fp != want:
        raise BundleError("FINGERPRINT_MISMATCH", f"bundle CA fingerprint {fp} != expected {want}")
    party = b["party"]
    if not (is_ca(ca_cert) and ca_cert.issuer == ca_cert.subject and verify_signed_by(ca_cert, ca_cert)):
        raise BundleError("BUNDLE_INVALID", "ca_certificate is not a self-signed CA")
    if cert_party_uris(ca_cert) != [URN + party]:
        raise BundleError("BUNDLE_INVALID", "ca_certificate does not name the bundle's party")
    sig = b["signature"].split(".") if isinstance(b["signature"], str) else []
    if len(sig) != 3 or sig[1] != "" or b64url_decode(sig[0]) != BUNDLE_HEADER:
        raise BundleError("BUNDLE_INVALID", "signature must be a detached JWS with the bundle header")
    body = {k: v for k, v in b.items() if k != "signature"}
    signing_input = (sig[0] + "." + b64url(canonical_json(body))).encode("ascii")
    if not J.rs256_verify(ca_cert.public_key(), b64url_decode(sig[2]), signing_input):
        raise BundleError("BUNDLE_INVALID", "bundle signature does not verify with its CA")
    atts = b["signing_key_attestations"]
    if not isinstance(atts, list) or not atts:
        raise BundleError("BUNDLE_INVALID", "no signing-key attestation")
    info = PartnerInfo(party, b["ca_certificate"], ca_cert, b["endpoint"], b["display_names"], fingerprint=fp)
    for a in atts:
        merge_key(info.keys, verify_attestation(a, ca_cert, party))
    now = now_s()
    if not any(k.retired_at is None or k.retired_at > now for k in info.keys.values()):
        raise BundleError("BUNDLE_INVALID", "every attested key is retired")
    return info


# ---- the partner's own identity on disk -----------------------------------------------------

@dataclass
class Identity:
    party: str
    display_names: dict
    ca_key: object
    ca_cert: object
    tls_key: object
    tls_cert: object
    signing_key: ed25519.Ed25519PrivateKey
    attestations: list
    valid_from: int

    @property
    def kid(self) -> str:
        return J.kid_of(J.ed25519_raw_public(self.signing_key))

    def pem(self, what: str) -> bytes:
        if what == "ca":
            return self.ca_cert.public_bytes(serialization.Encoding.PEM)
        if what == "tls":
            return self.tls_cert.public_bytes(serialization.Encoding.PEM)
        if what == "tls_key":
            return _pem_key(self.tls_key)
        raise KeyError(what)


def create_identity(directory: str, party: str, display_names: dict, age_days: int = 30) -> Identity:
    """Everything a party makes once. Made `age_days` in the past so that deliberately old
    ("stale") test messages are still inside the signing key's validity."""
    now = now_s()
    born = now - age_days * 86400
    ca_key, ca_cert = make_ca(party, display_names.get("en") or next(iter(display_names.values())), born - 600)
    tls_key, tls_cert = make_tls(ca_key, ca_cert, party, born - 600)
    sk = ed25519.Ed25519PrivateKey.generate()
    att = make_attestation(ca_key, ca_cert, party, J.ed25519_raw_public(sk), born)
    os.makedirs(directory, exist_ok=True)

    def write(name, data, private=False):
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600 if private else 0o644)

    write("ca.key", _pem_key(ca_key), True)
    write("ca.crt", ca_cert.public_bytes(serialization.Encoding.PEM))
    write("node.key", _pem_key(tls_key), True)
    write("node.crt", tls_cert.public_bytes(serialization.Encoding.PEM))
    write("signing.key", _pem_key(sk), True)
    write("identity.json", json.dumps({"party": party, "display_names": display_names, "attestations": [att], "valid_from": born}, ensure_ascii=False).encode("utf-8"))
    return load_identity(directory)


def load_identity(directory: str) -> Identity:
    def rd(name):
        with open(os.path.join(directory, name), "rb") as f:
            return f.read()
    meta = json.loads(rd("identity.json"))
    return Identity(
        meta["party"], meta["display_names"],
        serialization.load_pem_private_key(rd("ca.key"), None), x509.load_pem_x509_certificate(rd("ca.crt")),
        serialization.load_pem_private_key(rd("node.key"), None), x509.load_pem_x509_certificate(rd("node.crt")),
        serialization.load_pem_private_key(rd("signing.key"), None), meta["attestations"], meta["valid_from"],
    )
