"""A SQLite file: one connection per thread and process, write transactions under a writers' lock file, the
checkpoints, and the blobs as content-addressed files beside it."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Sequence

from .blobs import DIGEST, StagedBlob, blob_used, stage_bytes
from .dialect import SQLITE
from .schema import UPGRADES, statements

BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for a lock that SQLite itself holds
CHECKPOINT_ROWS = 300  # rows a connection writes between its checkpoints: about 100 API requests
SPIN_SECONDS = 50e-6  # about the time a request holds the write lock
RESTART_TRIES, RESTART_PAUSE = 5, 1e-3  # a reader in the way of a restart: try again after 1 ms, 5 times
RESTART_FRAMES = 2048  # pages in the log (8 MiB) from which a checkpoint has it start over


# Held while a checkpoint thread uses SQLite, and by a fork: SQLite's mutexes must not be copied into a child
# while held. (Never taken while waiting for the writers' lock, which a forking thread may hold.)
_CHECKPOINTING = threading.Lock()
os.register_at_fork(before=_CHECKPOINTING.acquire, after_in_parent=_CHECKPOINTING.release,
                    after_in_child=_CHECKPOINTING.release)


def blob_dir(path: Path) -> Path:
    """Where the blobs of the state at `path` live: beside it, `<name>.blobs/`."""
    return path.with_name(path.name + ".blobs")


def requests_path(path: Path) -> Path:
    """Where the request journal of the state at `path` lives: beside it, `<name>.requests`."""
    return Path(f"{path}.requests")


def _sqlite_files(path: Path) -> list[Path]:
    """A SQLite file, its log and shared index, and the writers' lock file beside it."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.lock")]


def state_files(path: Path) -> list[Path]:
    """Every file and folder that makes up the state at `path`."""
    return [*_sqlite_files(path), *_sqlite_files(requests_path(path)), blob_dir(path)]


def _lock(lock: BinaryIO) -> None:
    """Take the writers' lock, trying for about as long as a writer holds it before sleeping on it: a sleep
    and a wake-up cost the two workers more than that (10% of the DELETE benchmark's throughput)."""
    deadline = time.perf_counter() + SPIN_SECONDS
    while time.perf_counter() < deadline:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(0)  # the spin must not hold the GIL from this process's other threads
    fcntl.flock(lock, fcntl.LOCK_EX)


def _enable_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch to WAL; SQLite does not wait on its busy timeout for this, so retry while another opens the file."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction on a connection that holds the writers' lock: committed, or rolled back if the body raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a COMMIT that failed (disk full, I/O) leaves it open: the next BEGIN would fail
            conn.execute("ROLLBACK")
        raise


class SqliteDatabase:
    """Connections and transactions on a state file, and its blobs."""

    dialect = SQLITE
    upgrades = UPGRADES

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()  # relative: to the start-up folder, not Flask's root
        self.name = str(self.path)
        self.staging = blob_dir(self.path)  # the blobs, and the uploads being staged beside them
        self._local = threading.local()
        # A process's threads queue for writing on this lock, which sleeps them, before the lock file: only one
        # of them at a time spins for the file against the other workers.
        self._writing = threading.Lock()
        self._starting = threading.Lock()
        self._checkpointer: threading.Thread | None = None
        self._checkpoints: tuple[int, sqlite3.Connection, BinaryIO] | None = None  # pid, connection, lock

    def _open(self, check_same_thread: bool = True) -> tuple[sqlite3.Connection, BinaryIO]:
        """A new connection on the state file, and the writers' lock file (a file object, so that it is
        closed with a store nobody closed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=check_same_thread)
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        # SQLite would checkpoint inside a commit, while this worker holds the write lock and the others
        # queue behind it (the slowest requests were those); `_checkpoint` runs beside the requests instead.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn, open(f"{self.path}.lock", "ab", buffering=0)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a fork gets a new one: SQLite handles must not cross processes)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn, local.lock = self._open()
            local.checkpointed, local.pid = 0, os.getpid()
        return local.conn

    @contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        """Writers queue on a lock file first: the kernel hands it over at once, where SQLite's own busy
        handler would sleep a millisecond or more each time two workers write together."""
        conn = self.connection()
        local = self._local
        with self._writing:
            _lock(local.lock)
            try:
                yield conn
            finally:
                fcntl.flock(local.lock, fcntl.LOCK_UN)
        if conn.total_changes - local.checkpointed >= CHECKPOINT_ROWS:
            local.checkpointed = conn.total_changes
            self._checkpoint_in_background()

    def _checkpoint_in_background(self) -> None:
        """Start a checkpoint in a thread of its own, unless one is running: a checkpoint waits for the disk
        twice (it syncs the log, then the database), 1.4 ms every 100 requests that the worker would stand
        still for. (After a fork the parent's thread is not alive in the child.)"""
        with self._starting:  # one checkpoint at a time, whichever of the process's threads asks
            running = self._checkpointer
            if running is None or not running.is_alive():
                self._checkpointer = threading.Thread(target=self._checkpoint, name="mockzoho-checkpoint",
                                                      daemon=True)
                try:
                    self._checkpointer.start()
                except RuntimeError:  # no thread to be had (a limit, or the interpreter exiting): the write stands
                    self._checkpointer = None

    def _checkpoint(self) -> None:
        """Copy the log into the database while the others write. Once the log is long, also finish the copy
        holding the write lock, so that the log starts over: a passive checkpoint never catches up with two
        busy writers, and SQLite reuses the log only once one has, so under steady load it would grow without
        end. (That last copy syncs the disk while writers wait, hence only once the log is long.)"""
        with _CHECKPOINTING:
            if self._checkpoints is None or self._checkpoints[0] != os.getpid():
                self._checkpoints = (os.getpid(), *self._open(check_same_thread=False))
            _, conn, lock = self._checkpoints
            if conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] < RESTART_FRAMES:
                return
        for _ in range(RESTART_TRIES):
            _lock(lock)  # without _CHECKPOINTING: a fork or close() must not wait for another worker's write
            try:
                with _CHECKPOINTING:
                    if self._checkpoints is None:  # closed meanwhile
                        return
                    conn.execute("PRAGMA busy_timeout = 0")  # a reader in the way: try again in a moment
                    try:
                        busy = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]
                    finally:
                        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
            if not busy:
                return
            time.sleep(RESTART_PAUSE)  # the writers go on meanwhile

    def append(self, insert: str, params: Sequence[object]) -> None:
        """One `INSERT ... SELECT ?, ...` that only adds a row (a journal entry), in its own transaction."""
        with self._writer() as conn:
            conn.execute(insert, params)

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one), and this process's checkpoints'
        once the one running, if any, is done."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.lock.close()
        self._local.__dict__.clear()
        running = self._checkpointer
        if running is not None and running.is_alive():
            running.join()
        with _CHECKPOINTING:
            if self._checkpoints is not None and self._checkpoints[0] == os.getpid():
                self._checkpoints[1].close()
                self._checkpoints[2].close()
            self._checkpoints = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken up front so concurrent writers queue instead of deadlocking."""
        with self._writer() as conn, transaction(conn):
            yield conn

    def meta(self) -> dict[str, str] | None:
        """The state's meta table, or None if the file is new or empty."""
        if not self.path.exists():
            return None
        try:
            return dict(self.connection().execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # a new, empty file
            return None

    def remove(self) -> None:
        """Delete the state file and everything beside it that belongs to it."""
        self.close()
        for item in state_files(self.path):
            if item.is_dir():
                shutil.rmtree(item)
            elif item.exists():
                item.unlink()

    def journal(self) -> SqliteDatabase:
        """Where the request journal lives: a file of its own beside the state (`<state>.requests`). Every API
        request writes an entry: in the state file, each entry committed by one worker dropped the other workers'
        page cache of the whole state, so requests that change nothing paid for reading it again."""
        return SqliteDatabase(requests_path(self.path))

    @staticmethod
    def schema() -> list[str]:
        """The statements that lay out the state (all idempotent)."""
        return statements()

    # -- blobs: files named by their sha256, `<2 hex>/<sha256>` in the folder beside the state ----------------

    def blob_path(self, digest: str) -> Path:
        """Where the blob with this sha256 lives."""
        return self.staging / digest[:2] / digest

    def blob_source(self, digest: str) -> Path:
        """What a download streams: the blob's file (gone if deleted since: the response says so)."""
        return self.blob_path(digest)

    def put_blob(self, content: bytes, digest: str) -> None:
        """Store `content` under its sha256 (inside a write transaction)."""
        if not self.blob_path(digest).exists():
            self.place_blob(stage_bytes(self.staging, content))

    def place_blob(self, staged: StagedBlob) -> bool:
        """Move a staged blob into place (inside a write transaction); True if this created the blob."""
        target = self.blob_path(staged.digest)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        return True

    @contextmanager
    def write_blobs(self, staged: StagedBlob | None) -> Iterator[tuple[sqlite3.Connection, set[str]]]:
        """A write transaction that places `staged` (if given) and, once committed, frees each blob the body added
        to the yielded set that no table refers to any more (still under the writers' lock, so that the sweep
        never sees a blob between its placement and its commit). A blob the placement made goes again if the
        transaction fails."""
        with self._writer() as conn:
            dropped: set[str] = set()
            created = False
            try:
                with transaction(conn):
                    created = staged is not None and self.place_blob(staged)
                    yield conn, dropped
            except BaseException:
                if staged is not None and created:
                    self.blob_path(staged.digest).unlink(missing_ok=True)
                raise
            self._free_unused(conn, dropped)

    def _free_unused(self, conn: sqlite3.Connection, digests: Iterable[str]) -> None:
        """Unlink blobs that neither the live state nor the fixtures refer to (under the writers' lock)."""
        for digest in set(digests):
            if conn.execute(blob_used(), (digest,)).fetchone() is None:
                self.blob_path(digest).unlink(missing_ok=True)

    def stored_blobs(self) -> list[str]:
        """The digests of the blobs on disk (what a sweep checks against the rows)."""
        return [path.name for path in self.staging.glob("??/*")
                if DIGEST.fullmatch(path.name) and path == self.blob_path(path.name)]
