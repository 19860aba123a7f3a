"""C2SP signed-note, tlog-checkpoint and tlog-cosignature/v1, as PROTOCOL.md §11.2–§11.3 profile them."""
import base64
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .util import b64, sha256

DASH = "\u2014 "


def _raw(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class NoteError(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def key_id(name: str, sig_type: int, public_raw: bytes) -> bytes:
    return sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_raw)[:4]


def verifier_key(name: str, public_raw: bytes, sig_type: int = 1) -> str:
    """`<name>+<key id hex>+<base64(type || key)>`; type 0x01 for a log key, 0x04 for a cosigner."""
    typed = bytes([sig_type]) + public_raw
    return f"{name}+{key_id(name, sig_type, public_raw).hex()}+{b64(typed)}"


@dataclass
class Signature:
    name: str
    key_hash: bytes
    blob: bytes  # after the 4-byte key id
    line: str


@dataclass
class Checkpoint:
    text: str  # the note text, final "\n" included
    origin: str
    size: int
    root: bytes
    extensions: list[str]
    signatures: list[Signature]
    note: str  # the whole signed note as received


def parse_note(note: str) -> tuple[str, list[Signature]]:
    if "\n\n" not in note:
        raise NoteError("CHECKPOINT_INVALID", "note has no signature block")
    i = note.index("\n\n")
    text, block = note[: i + 1], note[i + 2 :]
    if not block.endswith("\n"):
        raise NoteError("CHECKPOINT_INVALID", "signature block must end in a newline")
    sigs = []
    for line in block[:-1].split("\n"):
        if not line.startswith(DASH):
            raise NoteError("CHECKPOINT_INVALID", "malformed signature line")
        rest = line[len(DASH):]
        parts = rest.split(" ")
        if len(parts) != 2 or not parts[0]:
            raise NoteError("CHECKPOINT_INVALID", "malformed signature line")
        try:
            raw = base64.b64decode(parts[1], validate=True)
        except Exception:
            raise NoteError("CHECKPOINT_INVALID", "signature is not base64") from None
        if len(raw) < 5:
            raise NoteError("CHECKPOINT_INVALID", "signature too short")
        sigs.append(Signature(parts[0], raw[:4], raw[4:], line + "\n"))
    if not sigs:
        raise NoteError("CHECKPOINT_INVALID", "note has no signature")
    return text, sigs


def parse_checkpoint(note: str) -> Checkpoint:
    text, sigs = parse_note(note)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("CHECKPOINT_INVALID", "checkpoint needs origin, size and root")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin or not re.fullmatch(r"0|[1-9][0-9]*", size_s):
        raise NoteError("CHECKPOINT_INVALID", "bad origin or size")
    try:
        root = base64.b64decode(root_s, validate=True)
    except Exception:
        raise NoteError("CHECKPOINT_INVALID", "root is not base64") from None
    if len(root) != 32 or b64(root) != root_s:
        raise NoteError("CHECKPOINT_INVALID", "root must be 32 bytes, padded base64")
    return Checkpoint(text, origin, int(size_s), root, lines[3:], sigs, note)


def open_checkpoint(note: str, origin: str, public_keys: list[bytes]) -> Checkpoint:
    """Parse, require the origin, and verify the log's line by one of `public_keys` (type 0x01)."""
    cp = parse_checkpoint(note)
    if cp.origin != origin:
        raise NoteError("CHECKPOINT_INVALID", f"origin must be {origin}")
    known = {key_id(origin, 1, k): k for k in public_keys}
    verified = False
    for s in cp.signatures:
        if s.name != origin or s.key_hash not in known:
            continue  # unknown lines (cosignatures) are ignored
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(known[s.key_hash]).verify(s.blob, cp.text.encode("utf-8"))
            verified = True
        except InvalidSignature:
            raise NoteError("SIGNATURE_INVALID", "the log's signature does not verify") from None
    if not verified:
        raise NoteError("KEY_UNKNOWN", "no signature by an attested key of the log")
    return cp


def sign_note_text(key: ed25519.Ed25519PrivateKey, name: str, text: str) -> str:
    pub = _raw(key)
    sig = key.sign(text.encode("utf-8"))
    return f"{DASH}{name} {b64(key_id(name, 1, pub) + sig)}\n"


def cosign_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + text.encode("utf-8")


def cosignature_line(key: ed25519.Ed25519PrivateKey, name: str, text: str, timestamp: int) -> str:
    pub = _raw(key)
    sig = key.sign(cosign_message(text, timestamp))
    return f"{DASH}{name} {b64(key_id(name, 4, pub) + struct.pack('>Q', timestamp) + sig)}\n"


def verify_cosignature(sig: Signature, text: str, public_raw: bytes) -> int | None:
    """Returns the timestamp when `sig` is a valid cosignature/v1 by `public_raw`, else None."""
    if sig.key_hash != key_id(sig.name, 4, public_raw) or len(sig.blob) != 72:
        return None
    (ts,) = struct.unpack(">Q", sig.blob[:8])
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_raw).verify(sig.blob[8:], cosign_message(text, ts))
        return ts
    except InvalidSignature:
        return None
