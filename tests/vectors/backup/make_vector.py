"""Build the backup format's test vector with fixed inputs (docs/backup-format.md, "Test vector").

    .venv/bin/python -m tests.vectors.backup.make_vector    # rewrites tiny.counterfoil

The bundle is made by the program's own writer with a fixed salt, payload nonce and
creation time, so the same inputs always give the same bytes; a test checks that the
committed file is exactly what this builds, and that its SHA-256 is the documented one.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "tiny.counterfoil"
DATABASE = HERE / "vector-database.sqlite"
PASSPHRASE = "correct horse battery staple"
SALT = bytes(range(16))                 # 00 01 .. 0f
PAYLOAD_NONCE = bytes(range(16, 32))    # 10 11 .. 1f
CREATED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
ATTACHMENT_NAME = "vector.txt"


def attachment_bytes() -> bytes:
    """70,000 bytes, so the payload spans two chunks."""
    return b"".join(f"Counterfoil test vector line {i:05d}\n".encode() for i in range(2000))


def build() -> bytes:
    from app.backup.bundle import BundleWriter
    from app.backup.service import write_payload

    with tempfile.TemporaryDirectory() as folder:
        attachment = Path(folder) / ATTACHMENT_NAME
        attachment.write_bytes(attachment_bytes())
        out = io.BytesIO()
        writer = BundleWriter(out, PASSPHRASE, salt=SALT, payload_nonce=PAYLOAD_NONCE)
        write_payload(writer, database=DATABASE, attachments=[(ATTACHMENT_NAME, attachment)], created_at=CREATED_AT,
                      manifest_fields={"app_version": "test-vector", "business_name": "Test Vector Ltd",
                                       "migrations": {}, "row_counts": {"vector": 1}})
        writer.close()
        return out.getvalue()


if __name__ == "__main__":
    import hashlib

    data = build()
    BUNDLE.write_bytes(data)
    print(f"{BUNDLE}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
