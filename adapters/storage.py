"""Where uploaded batch files are kept: a directory, each file under a name of its content (its SHA-256),
written from the request's stream in chunks, so that memory stays flat whatever the file's size.

A file is written to a temporary name, synced and then renamed, so that a reader never sees half of
one; the same content uploaded twice is one file."""
from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Optional

CHUNK = 256 * 1024
Read = Callable[[int], bytes]


class TooLarge(Exception):
    """The upload is larger than the limit; nothing was kept."""


@dataclass(frozen=True)
class Stored:
    """A kept upload: its key (to open it again), its size, and its digests."""

    key: str
    size: int
    sha256: str      # hex
    md5_base64: str  # as Content-MD5 (RFC 1864) carries it


class FileStorage:
    """Batch files in a directory of their own."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def save(self, read: Read, limit: int, prefix: str, suffix: str,
             check: Optional[Callable[[Stored, BinaryIO], None]] = None) -> Stored:
        """Stream ``read`` (a file's ``read``) to storage, at most ``limit`` bytes; raises TooLarge beyond.
        ``check`` sees the written file (and its digests) before it is kept: whatever it raises, nothing is."""
        folder = self.root / prefix
        folder.mkdir(parents=True, exist_ok=True)
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"the file is larger than {limit} bytes")
                    sha.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = f"{prefix}/{sha.hexdigest()}{suffix}"
            stored = Stored(key, size, sha.hexdigest(), base64.b64encode(md5.digest()).decode())
            if check is not None:
                with open(temporary, "rb") as written:
                    check(stored, written)
            os.replace(temporary, self.root / key)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return stored

    def open(self, key: str) -> BinaryIO:
        """A kept file, to read in chunks."""
        return open(self.root / key, "rb")
