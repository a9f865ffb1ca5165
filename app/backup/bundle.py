"""The encrypted container, streaming: a writer and a reader over file objects.

Key derivation is Argon2id (argon2-cffi's low-level API), the per-purpose keys come
from HKDF-SHA256, the header is authenticated with HMAC-SHA256, and the payload is
sealed with the STREAM construction of age over ChaCha20-Poly1305 from
`cryptography`: 64 KiB chunks, nonce = 11-byte chunk counter + last-chunk flag.
Nothing here is a home-made primitive; the layout is in docs/backup-format.md.

Memory stays flat: the writer holds at most one chunk, the reader one chunk.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from hashlib import sha256
from typing import IO, TYPE_CHECKING, BinaryIO

from argon2.low_level import Type, hash_secret_raw

from app.backup import logic
from app.backup.logic import CHUNK_SIZE, HEADER_SIZE, TAG_SIZE, Header, KdfParams

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

Progress = Callable[[int, int], None]   # (bytes done, bytes in all)


def derive_master_key(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    logic.check_kdf(kdf)   # never allocate what a header asks for without checking it first
    secret = logic.normalise_passphrase(passphrase)
    if not secret:
        raise logic.WrongPassphrase("The passphrase is empty. " + logic.UNCHANGED)
    return hash_secret_raw(secret=secret, salt=salt, time_cost=kdf.time_cost, memory_cost=kdf.memory_kib,
                           parallelism=kdf.parallelism, hash_len=32, type=Type.ID, version=19)


def _hkdf(master: bytes, salt: bytes | None, info: bytes) -> bytes:
    # cryptography (a 14 MB library) loads at the first backup, not at the program's start.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def header_key(master: bytes) -> bytes:
    return _hkdf(master, None, logic.HKDF_INFO_HEADER)


def payload_key(master: bytes, payload_nonce: bytes) -> bytes:
    return _hkdf(master, payload_nonce, logic.HKDF_INFO_PAYLOAD)


def _aead(key: bytes) -> ChaCha20Poly1305:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    return ChaCha20Poly1305(key)


def header_mac(key: bytes, fields: bytes) -> bytes:
    return hmac.new(key, fields, sha256).digest()


class BundleWriter:
    """A write-only file object: what is written is sealed chunk by chunk into `out`.

    `out` must be seekable: the header, which records the payload's length, is
    written last (a placeholder holds its place meanwhile). Call `close()` to
    seal the final chunk and write the header; a writer that is not closed
    leaves a file that no reader accepts.
    """

    def __init__(self, out: BinaryIO, passphrase: str, *, kdf: KdfParams = logic.DEFAULT_KDF,
                 salt: bytes | None = None, payload_nonce: bytes | None = None):
        if kdf.time_cost < logic.WRITE_TIME_COST or kdf.memory_kib < logic.WRITE_MEMORY_KIB \
                or kdf.parallelism < logic.WRITE_PARALLELISM:
            raise ValueError("key derivation settings below t=3, m=64 MiB, p=4")
        self._out = out
        self._start = out.tell()
        self._kdf = kdf
        self._salt = salt if salt is not None else os.urandom(logic.SALT_SIZE)
        self._nonce = payload_nonce if payload_nonce is not None else os.urandom(logic.NONCE_SIZE)
        master = derive_master_key(passphrase, self._salt, kdf)
        self._header_key = header_key(master)
        self._aead = _aead(payload_key(master, self._nonce))
        self._pending = bytearray()
        self._index = 0
        self._length = 0
        self.closed = False
        out.write(b"\x00" * HEADER_SIZE)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed:
            raise ValueError("write to a closed bundle")
        view = memoryview(data).cast("B")
        position, size = 0, len(view)
        while position < size:
            if len(self._pending) == CHUNK_SIZE:
                # More data follows a full chunk, so that chunk is not the last one.
                self._seal(self._pending, last=False)
                self._pending = bytearray()
            if not self._pending and size - position > CHUNK_SIZE:
                # A whole chunk with more after it in this very write: seal it in place, no copy.
                self._seal(view[position:position + CHUNK_SIZE], last=False)
                position += CHUNK_SIZE
                continue
            take = min(CHUNK_SIZE - len(self._pending), size - position)
            self._pending += view[position:position + take]
            position += take
        self._length += size
        return size

    def _seal(self, chunk: bytes | bytearray | memoryview, *, last: bool) -> None:
        self._out.write(self._aead.encrypt(logic.chunk_nonce(self._index, last), chunk, None))
        self._index += 1

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if self.closed:
            return
        if not self._pending:
            raise ValueError("a bundle's payload cannot be empty")
        self._seal(self._pending, last=True)
        self._pending = bytearray()
        fields = logic.pack_fields(self._kdf, self._length, self._salt, self._nonce)
        end = self._out.tell()
        self._out.seek(self._start)
        self._out.write(logic.pack_header(fields, header_mac(self._header_key, fields)))
        self._out.seek(end)
        self._out.flush()
        self.closed = True

    @property
    def plaintext_length(self) -> int:
        return self._length


def read_header(source: IO[bytes]) -> Header:
    """Check what can be checked without the passphrase: signature, checksum, limits, length."""
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(0)
    head = source.read(HEADER_SIZE)
    return logic.parse_header(head, size)


class BundleReader:
    """A read-only file object giving the authenticated plaintext, chunk by chunk.

    Opening it checks the header and the passphrase (the header MAC); reading
    checks every chunk, requires the final-chunk flag on the last one and on no
    other, and requires the file to end right after it. `read()` returns b"" only
    once the whole payload has been authenticated.
    """

    def __init__(self, source: IO[bytes], passphrase: str, *, progress: Progress | None = None):
        self.header = read_header(source)
        master = derive_master_key(passphrase, self.header.salt, self.header.kdf)
        if not hmac.compare_digest(header_mac(header_key(master), self.header.fields), self.header.mac):
            raise logic.wrong_passphrase()
        self._aead = _aead(payload_key(master, self.header.payload_nonce))
        self._source = source
        self._count = self.header.chunk_count
        self._index = 0
        self._buffer = b""
        self._offset = 0
        self._done = 0
        self._progress = progress
        source.seek(HEADER_SIZE)

    def readable(self) -> bool:
        return True

    def rewind(self, *, progress: Progress | None = None) -> None:
        """Read the payload again from its start (a second pass needs no second key derivation)."""
        self._source.seek(HEADER_SIZE)
        self._index = 0
        self._buffer = b""
        self._offset = 0
        self._done = 0
        self._progress = progress

    def _next_chunk(self) -> None:
        index, count = self._index, self._count
        last = index == count - 1
        expected = logic.chunk_plaintext_size(self.header.plaintext_length, index) + TAG_SIZE
        sealed = self._source.read(expected)
        if len(sealed) < expected:
            raise logic.Truncated("The backup is incomplete: it ended while being read (was it still being "
                                  "copied?). " + logic.UNCHANGED)
        from cryptography.exceptions import InvalidTag

        try:
            chunk = self._aead.decrypt(logic.chunk_nonce(index, last), sealed, None)
        except InvalidTag:
            raise self._diagnose(sealed, index, last) from None
        if last and self._source.read(1):
            raise logic.TrailingData("The backup has unexpected bytes after its final part. " + logic.UNCHANGED)
        self._index += 1
        self._buffer, self._offset = chunk, 0
        self._done += len(chunk)
        if self._progress:
            self._progress(self._done, self.header.plaintext_length)

    def _diagnose(self, sealed: bytes, index: int, last: bool) -> logic.BackupError:
        """Tell a cut at a chunk boundary and a second final chunk apart from plain damage."""
        from cryptography.exceptions import InvalidTag

        try:
            self._aead.decrypt(logic.chunk_nonce(index, not last), sealed, None)
        except InvalidTag:
            return logic.damaged_chunk(index, self._count)
        if last:
            return logic.Truncated("The backup is incomplete: it ends before its final part (it was cut at a "
                                   "part boundary). " + logic.UNCHANGED)
        return logic.PayloadDamaged(f"The backup is damaged: part {index + 1} of {self._count} is marked as the "
                                    "final part, but more parts follow. " + logic.UNCHANGED)

    def read(self, size: int = -1) -> bytes:
        if self._offset >= len(self._buffer):
            if self._index >= self._count:
                return b""
            self._next_chunk()
        if size is None or size < 0:
            size = len(self._buffer) - self._offset
        piece = self._buffer[self._offset:self._offset + size]
        self._offset += len(piece)
        return piece

    def drain(self) -> bool:
        """Read and authenticate the rest; True when all of it was zero bytes (tar's end padding)."""
        all_zero = True
        while True:
            piece = self.read(CHUNK_SIZE)
            if not piece:
                return all_zero
            if piece.strip(b"\x00"):
                all_zero = False

    @property
    def finished(self) -> bool:
        return self._index >= self._count and self._offset >= len(self._buffer)
