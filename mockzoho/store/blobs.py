"""Content-addressed blobs: uploads staged to a temp file, then placed and freed by the database inside the write
transaction that makes or drops their rows (a SQLite state keeps them as files beside it, a PostgreSQL one as rows
every host reads).

What a crash leaves behind is swept (`Blobs.sweep`) by two rules that cannot race a live worker:

- A staging file is locked (flock) by its writer from its creation until the `StagedBlob` naming it is
  collected, so after it was placed or discarded; the sweep removes only staging files whose lock it can take,
  that is files whose writer died (the kernel drops a dead process's locks) or forgot them.
- A blob is placed and its row committed in one write transaction, under the writers' lock; the sweep frees
  blobs under that lock too, so it never sees a blob between its placement and its commit.

`Blobs.write_blobs` is how live rows take and drop blobs (seeding places the fixtures' with `put_blob` in its own
transaction): it frees a dropped blob only once no row refers to it, so that a crash or a rollback never leaves a
row whose blob is gone; at worst a blob no row refers to, which the sweep frees.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import tempfile
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .core import Core
from .schema import columns

STAGING_PREFIX = ".upload-"  # staging files, in the blobs folder itself; blobs are in `<2 hex>/<sha256>`
DIGEST = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class StagedBlob:
    """Uploaded bytes in a temp file beside the blobs, not yet part of the state; while this object lives,
    its writer's lock on the file keeps the sweep away."""

    path: Path
    digest: str
    size: int


def stage_stream(folder: Path, stream: BinaryIO, chunk_size: int = 1 << 20) -> StagedBlob:
    """Copy an upload into a locked staging file in `folder`, hashing it on the way (never all in memory). The
    lock is released when the returned object is collected."""
    fd, tmp = _new_staging_file(folder)
    digest, size = hashlib.sha256(), 0
    try:
        with open(fd, "wb", closefd=False) as handle:
            while chunk := stream.read(chunk_size):
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        os.close(fd)
        raise
    staged = StagedBlob(tmp, digest.hexdigest(), size)
    weakref.finalize(staged, os.close, fd)
    return staged


def stage_bytes(folder: Path, content: bytes) -> StagedBlob:
    """Bytes in memory (a fixture's), staged as an upload is."""
    return stage_stream(folder, io.BytesIO(content))


def _new_staging_file(folder: Path) -> tuple[int, Path]:
    """A new staging file, locked. A sweep may take the file between its creation and the lock; it is then gone
    from its path (the sweep removes it holding the lock), and another one is made."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=STAGING_PREFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _still_at(fd, Path(tmp)):
            return fd, Path(tmp)
        os.close(fd)


class Blobs(Core):
    """The bytes of file attachments and Cosmos DB media."""

    def stage_blob(self, stream: BinaryIO) -> StagedBlob:
        """An upload staged beside the blobs, not yet part of the state."""
        return stage_stream(self.blobs, stream)

    def put_blob(self, content: bytes) -> str:
        """Store `content` under its sha256 (inside a write transaction: seeding's)."""
        digest = hashlib.sha256(content).hexdigest()
        self.db.put_blob(content, digest)
        return digest

    def blob_source(self, digest: str) -> Path | BinaryIO | None:
        """What a download streams: a file, or the bytes; None (or a file that is gone) if deleted since."""
        return self.db.blob_source(digest)

    @contextmanager
    def write_blobs(self, staged: StagedBlob | None = None) -> Iterator[tuple[Any, set[str]]]:
        """A write transaction that places `staged` (if given) and frees each blob the body added to the yielded
        set that no table refers to any more. The staging file is gone afterwards whatever happens, and a blob
        the placement made goes again if the transaction fails."""
        try:
            with self.db.write_blobs(staged) as written:
                yield written
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)

    def blobs_in_use(self, conn: Any) -> set[str]:
        """Every blob a row of any table refers to."""
        return {b for (b,) in conn.execute(" UNION ".join(
            f"SELECT blob FROM {table} WHERE blob IS NOT NULL" for table in _blob_tables()))}

    def sweep(self) -> None:
        """Remove what crashed workers left: staging files nobody holds, and blobs no row refers to (at
        start-up and on reset; safe beside live workers, by the rules in this module's docstring)."""
        self._sweep_staging_files()
        digests = self.db.stored_blobs()  # listed before the lock, which writers should not wait on for it
        if digests:  # no write transaction (the writers' lock, a commit) for a state without blobs
            with self.write_blobs() as (_, dropped):
                dropped.update(digests)

    def _sweep_staging_files(self) -> None:
        """Unlink each staging file whose lock can be taken: its writer is gone."""
        for path in self.blobs.glob(STAGING_PREFIX + "*"):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # placed or discarded since it was listed
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _still_at(fd, path):  # not placed (renamed) while this waited to open it
                    path.unlink()
            except BlockingIOError:  # a live writer's
                pass
            finally:
                os.close(fd)


@cache
def _blob_tables() -> tuple[str, ...]:
    """Every table with a `blob` column, as the schema lays them out: a blob is freed only when none refers to it."""
    return tuple(table for table, names in columns().items() if "blob" in names)


@cache
def blob_used() -> str:
    """A query with a row if any table refers to the blob `?1`."""
    return " UNION ALL ".join(f"SELECT 1 FROM {table} WHERE blob = ?1" for table in _blob_tables()) + " LIMIT 1"


def _still_at(fd: int, path: Path) -> bool:
    """True if `path` still names the file open as `fd`."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (opened.st_dev, opened.st_ino)
