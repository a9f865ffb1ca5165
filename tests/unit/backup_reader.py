"""A minimal reader of .counterfoil bundles, written from docs/backup-format.md alone.

It imports nothing from the `app` package: if the document and the program ever
disagree, the tests that compare this reader with the program fail.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import struct
import tarfile
import unicodedata

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHUNK = 65536


class ReaderError(Exception):
    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def _hkdf(master: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def read_bundle(data: bytes, passphrase: str) -> dict[str, bytes]:
    """Return the payload's members by name, or raise ReaderError(code)."""
    if not data:
        raise ReaderError("empty_file")
    if not data.startswith(b"CFBACKUP"):
        if len(data) >= 128 and hashlib.sha256(b"CFBACKUP" + data[8:96]).digest() == data[96:128]:
            raise ReaderError("header_damaged")
        if len(data) < 128 and b"CFBACKUP".startswith(data[:8]) and len(data) >= 4:
            raise ReaderError("truncated")
        raise ReaderError("not_a_bundle")
    if len(data) < 128:
        raise ReaderError("truncated")
    header = data[:128]
    if hashlib.sha256(header[:96]).digest() != header[96:128]:
        raise ReaderError("header_damaged")
    version, kdf_id, cipher_id, t, m, p, length = struct.unpack(">HBBIIIQ", header[8:32])
    salt, payload_nonce, mac = header[32:48], header[48:64], header[64:96]
    if version != 1 or kdf_id != 1 or cipher_id != 1:
        raise ReaderError("unsupported_format")
    if not (3 <= t <= 10 and 65536 <= m <= 1048576 and 1 <= p <= 16 and m >= 8 * p):
        raise ReaderError("unsafe_parameters")
    if not 1 <= length <= 1 << 40:
        raise ReaderError("header_damaged")
    chunks = -(-length // CHUNK)
    expected = 128 + length + 16 * chunks
    if len(data) < expected:
        raise ReaderError("truncated")
    if len(data) > expected:
        raise ReaderError("trailing_data")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    master = hash_secret_raw(secret, salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID,
                             version=0x13)
    header_key = _hkdf(master, None, b"counterfoil-backup v1 header")
    if not hmac.compare_digest(hmac.new(header_key, header[:64], hashlib.sha256).digest(), mac):
        raise ReaderError("wrong_passphrase")
    aead = ChaCha20Poly1305(_hkdf(master, payload_nonce, b"counterfoil-backup v1 payload"))
    plaintext = bytearray()
    position = 128
    for i in range(chunks):
        last = i == chunks - 1
        size = (length - CHUNK * i if last else CHUNK) + 16
        sealed = data[position:position + size]
        position += size
        try:
            plaintext += aead.decrypt(i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), sealed, None)
        except InvalidTag:
            raise ReaderError("payload_damaged") from None
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(bytes(plaintext)), mode="r:") as tar:
        for member in tar.getmembers():
            if not member.isreg() or member.name in members:
                raise ReaderError("content_invalid")
            members[member.name] = tar.extractfile(member).read()  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    listed = {entry["path"]: entry for entry in manifest["files"]}
    if set(listed) != set(members) - {"manifest.json"}:
        raise ReaderError("content_invalid")
    for name, entry in listed.items():
        if len(members[name]) != entry["size"] or hashlib.sha256(members[name]).hexdigest() != entry["sha256"]:
            raise ReaderError("content_invalid")
    return members
