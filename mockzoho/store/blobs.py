"""Content-addressed blobs beside the state file: staged to a temp file, placed and freed under the write lock."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from .core import Core

# Every table with a `blob` column: a blob is freed only when none of them refers to it.
BLOB_TABLES = ("attachments", "fixture_attachments", "cosmos_resources", "fixture_cosmos_resources")
_BLOB_USED = " UNION ALL ".join(f"SELECT 1 FROM {table} WHERE blob = ?1" for table in BLOB_TABLES) + " LIMIT 1"


@dataclass(frozen=True)
class StagedBlob:
    """Uploaded bytes in a temp file beside the blobs, not yet part of the state."""

    path: Path
    digest: str
    size: int


class Blobs(Core):
    """The bytes of file attachments."""

    def blob_path(self, digest: str) -> Path:
        """Where the blob with this sha256 lives."""
        return self.blobs / digest[:2] / digest

    def put_blob(self, content: bytes) -> str:
        """Store `content` under its sha256 (written to a temp file, then moved into place)."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.blob_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, target)
        return digest

    def stage_blob(self, stream: BinaryIO, chunk_size: int = 1 << 20) -> StagedBlob:
        """Copy an upload into a temp file beside the blobs, hashing it on the way (never all in memory)."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.blobs, prefix=".upload-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(chunk_size):
                    digest.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StagedBlob(Path(tmp), digest.hexdigest(), size)

    def place_blob(self, staged: StagedBlob) -> bool:
        """Move a staged blob into place (inside a write transaction); True if this created the blob."""
        target = self.blob_path(staged.digest)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        return True

    def free_blobs(self, conn: sqlite3.Connection, digests: Iterable[str]) -> None:
        """Unlink blobs that neither the live state nor the fixtures refer to (inside the write transaction)."""
        for digest in set(digests):
            if conn.execute(_BLOB_USED, (digest,)).fetchone() is None:
                self.blob_path(digest).unlink(missing_ok=True)
