"""Pack Nuitka's standalone folder behind the launcher (build/launcher/launcher.c) into one file.

    python build/pack_binary.py DIST_FOLDER LAUNCHER PROGRAM

PROGRAM = the launcher, then DIST_FOLDER as an xz-compressed tar, then a trailer of TRAILER_SIZE bytes that
the launcher reads: "COUNTERFOIL-PAYLOAD <payload bytes> <build id>\\n", padded with spaces. The build id is a
hash of the payload: the name of the folder the program unpacks into at its first start.
"""

from __future__ import annotations

import hashlib
import lzma
import sys
import tarfile
from pathlib import Path

TRAILER_SIZE = 128


def pack(dist: Path, launcher: Path, program: Path) -> tuple[int, str]:
    """Writes PROGRAM; returns the payload's size and the build id."""
    payload = program.with_name(program.name + ".payload.tar.xz")
    with lzma.open(payload, "wb", preset=9) as compressed, tarfile.open(fileobj=compressed, mode="w") as archive:
        for path in sorted(dist.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(dist)), recursive=False)
    digest = hashlib.sha256()
    with payload.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    build_id = digest.hexdigest()[:24]
    size = payload.stat().st_size
    trailer = f"COUNTERFOIL-PAYLOAD {size} {build_id}\n".encode().ljust(TRAILER_SIZE, b" ")
    with program.open("wb") as out:
        out.write(launcher.read_bytes())
        with payload.open("rb") as source:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        out.write(trailer)
    program.chmod(0o755)
    payload.unlink()
    return size, build_id


if __name__ == "__main__":
    dist, launcher, program = (Path(arg) for arg in sys.argv[1:4])
    size, build_id = pack(dist, launcher, program)
    unpacked = sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())
    print(f"Packed {unpacked / 1e6:.0f} MB of {dist.name} into {size / 1e6:.1f} MB (build id {build_id})")
