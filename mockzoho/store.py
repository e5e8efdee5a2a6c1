"""All mutable state, in one SQLite file (WAL) shared by every worker, plus its content-addressed blobs."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from .fixtures import Fixtures, OrgFixture

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, dc TEXT NOT NULL, time_zone TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(
    org TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    permissions TEXT,                    -- comma-separated, NULL for every permission
    restricted INTEGER NOT NULL,         -- 1: may act only on the records in user_records
    PRIMARY KEY(org, id));
CREATE TABLE IF NOT EXISTS user_records(
    org TEXT NOT NULL, user TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY(org, user, record_id));
CREATE TABLE IF NOT EXISTS tokens(
    token TEXT PRIMARY KEY, org TEXT NOT NULL, user TEXT NOT NULL, scopes TEXT NOT NULL,
    expires_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0,
    refresh_token TEXT);                 -- the refresh token it was issued from, if any
CREATE INDEX IF NOT EXISTS tokens_by_refresh ON tokens(refresh_token) WHERE refresh_token IS NOT NULL;
CREATE TABLE IF NOT EXISTS clients(
    id TEXT PRIMARY KEY, secret TEXT NOT NULL, dc TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,         -- newline-separated globs
    org TEXT NOT NULL, user TEXT NOT NULL);  -- who consents on the demo authorize page
CREATE TABLE IF NOT EXISTS refresh_tokens(
    token TEXT PRIMARY KEY, client TEXT NOT NULL, org TEXT NOT NULL, user TEXT NOT NULL,
    scopes TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS grant_codes(
    code TEXT PRIMARY KEY, client TEXT NOT NULL, org TEXT NOT NULL, user TEXT NOT NULL,
    scopes TEXT NOT NULL, redirect_uri TEXT NOT NULL, offline INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS clock(
    frozen REAL,                         -- a fixed time, or NULL for the real time
    offset REAL NOT NULL);               -- seconds added to the real time
CREATE TABLE IF NOT EXISTS records(
    org TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL, module TEXT NOT NULL, name TEXT NOT NULL,
    owner TEXT, created_time INTEGER NOT NULL, modified_time INTEGER NOT NULL,
    PRIMARY KEY(org, product, id));
CREATE TABLE IF NOT EXISTS attachments(
    org TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL, record_id TEXT NOT NULL,
    file_name TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL, link_url TEXT,
    blob TEXT, owner TEXT, created_by TEXT, modified_by TEXT,
    created_time INTEGER NOT NULL, modified_time INTEGER NOT NULL,
    PRIMARY KEY(org, product, id));
CREATE INDEX IF NOT EXISTS attachments_by_record ON attachments(org, product, record_id, created_time, id);
CREATE INDEX IF NOT EXISTS attachments_by_link ON attachments(org, product, record_id, link_url)
    WHERE link_url IS NOT NULL;
CREATE INDEX IF NOT EXISTS attachments_by_blob ON attachments(blob) WHERE blob IS NOT NULL;
"""


class StateError(Exception):
    """The state file cannot be used (another schema version, unreadable, ...)."""


@dataclass(frozen=True)
class TokenRow:
    """An access token joined with its user and org."""

    org: str
    user: str
    scopes: str
    expires_at: int | None
    revoked: bool
    dc: str
    time_zone: str
    permissions: str | None
    restricted: bool


@dataclass(frozen=True)
class UserRef:
    """A user as Zoho shows one inside a record: `{"name","id","email"}`."""

    id: str
    name: str
    email: str


@dataclass(frozen=True)
class AttachmentRow:
    """An attachment with its parent record and the users it names."""

    id: str
    record_id: str
    record_name: str
    module: str
    file_name: str
    size: int
    content_type: str
    link_url: str | None
    blob: str | None
    owner: UserRef | None
    created_by: UserRef | None
    modified_by: UserRef | None
    created_time: int
    modified_time: int


@dataclass(frozen=True)
class StagedBlob:
    """Uploaded bytes in a temp file beside the blobs, not yet part of the state."""

    path: Path
    digest: str
    size: int


class StoreConflict(Exception):
    """A write that the state refuses: `record` (the parent is gone) or `link` (the link already exists)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


_ATTACHMENT_SELECT = """
SELECT a.id, a.record_id, r.name, r.module, a.file_name, a.size, a.content_type, a.link_url, a.blob,
       a.owner, ou.name, ou.email, a.created_by, cu.name, cu.email, a.modified_by, mu.name, mu.email,
       a.created_time, a.modified_time
FROM attachments a
JOIN records r ON r.org = a.org AND r.product = a.product AND r.id = a.record_id
LEFT JOIN users ou ON ou.org = a.org AND ou.id = a.owner
LEFT JOIN users cu ON cu.org = a.org AND cu.id = a.created_by
LEFT JOIN users mu ON mu.org = a.org AND mu.id = a.modified_by
WHERE a.org = ? AND a.product = ? AND a.record_id = ?"""


def _attachment_row(row: Sequence) -> AttachmentRow:
    def user(i: int) -> UserRef | None:
        return None if row[i] is None or row[i + 1] is None else UserRef(row[i], row[i + 1], row[i + 2])
    return AttachmentRow(*row[:9], owner=user(9), created_by=user(12), modified_by=user(15),
                         created_time=row[18], modified_time=row[19])


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


def id_prefix(seed: int) -> int:
    """The 7-digit prefix of the ids a state file generates, derived from the id seed."""
    return 1_000_000 + int(hashlib.sha256(str(seed).encode()).hexdigest(), 16) % 9_000_000


def state_files(path: Path) -> list[Path]:
    """Every file and folder that makes up the state at `path`."""
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), blob_dir(path)]


def blob_dir(path: Path) -> Path:
    """Where the blobs of the state at `path` live: beside it, `<name>.blobs/`."""
    return path.with_name(path.name + ".blobs")


def remove_state(path: Path) -> None:
    """Delete the state at `path` (used by `--fresh`)."""
    for item in state_files(path):
        if item.is_dir():
            shutil.rmtree(item)
        elif item.exists():
            item.unlink()


class Store:
    """The SQLite state: one connection per thread and process, one transaction per state change."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.blobs = blob_dir(self.path)
        self._local = threading.local()

    # -- connections and transactions ------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a fork gets a new one: SQLite handles must not cross processes)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 30000")
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            local.conn, local.pid = conn, os.getpid()
        return local.conn

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.__dict__.clear()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken up front so concurrent writers queue instead of deadlocking."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- seeding ---------------------------------------------------------------------------------

    def seed(self, fixtures: Fixtures, id_seed: int = 0, clock: float | None = None) -> bool:
        """Load the fixtures once per state file, atomically; return True if this call seeded it."""
        with self.write() as conn:
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta:
                if meta.get("schema") != SCHEMA_VERSION:
                    raise StateError(f"{self.path} was written by another mockzoho version "
                                     f"(schema {meta.get('schema')}); start with --fresh or another state path")
                if meta.get("fixture_digest") != fixtures.digest:
                    log.warning("state %s was seeded from other fixtures; keeping it (use --fresh to reseed)",
                                self.path)
                return False
            for org in fixtures.orgs:
                self._insert_org(conn, org)
            conn.executemany("INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?)", [
                (c.id, c.secret, c.dc, "\n".join(c.redirect_uris), c.org, c.user) for c in fixtures.clients])
            conn.execute("INSERT INTO clock VALUES (?, 0)", (clock,))
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema", SCHEMA_VERSION), ("fixture_digest", fixtures.digest),
                ("id_prefix", str(id_prefix(id_seed))), ("id_counter", "0")])
        return True

    def _insert_org(self, conn: sqlite3.Connection, org: OrgFixture) -> None:
        conn.execute("INSERT INTO orgs VALUES (?, ?, ?, ?)", (org.id, org.name, org.dc, org.time_zone))
        conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)", [
            (org.id, u.id, u.name, u.email, None if u.permissions is None else ",".join(sorted(u.permissions)),
             int(u.records is not None)) for u in org.users])
        conn.executemany("INSERT INTO user_records VALUES (?, ?, ?)", [
            (org.id, u.id, r) for u in org.users for r in sorted(u.records or ())])
        conn.executemany("INSERT INTO tokens(token, org, user, scopes, expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?)", [
            (t.token, org.id, t.user, t.scopes, None if t.expires_at is None else int(t.expires_at.timestamp()),
             int(t.revoked)) for t in org.tokens])
        conn.executemany("INSERT INTO refresh_tokens(token, client, org, user, scopes) VALUES (?, ?, ?, ?, ?)", [
            (t.token, t.client, org.id, t.user, t.scopes) for t in org.refresh_tokens])
        for product, records in org.records.items():
            conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, r.id, r.module, r.name, r.owner,
                 int(r.created_time.timestamp()), int(r.modified_time.timestamp())) for r in records])
            conn.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, a.id, r.id, a.file_name, a.size, a.content_type, a.link_url,
                 None if a.content is None else self.put_blob(a.content), a.owner, a.owner, a.owner,
                 int(a.created_time.timestamp()), int(a.modified_time.timestamp()))
                for r in records for a in r.attachments])

    # -- the server clock -----------------------------------------------------------------------

    def now(self) -> float:
        """The server time (epoch seconds): real, shifted, or frozen, the same for every worker."""
        frozen, offset = self.connection().execute("SELECT frozen, offset FROM clock").fetchone()
        return frozen if frozen is not None else time.time() + offset

    # -- blobs -----------------------------------------------------------------------------------

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

    def _place_blob(self, staged: StagedBlob) -> bool:
        """Move a staged blob into place (inside a write transaction); True if this created the blob."""
        target = self.blob_path(staged.digest)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        return True

    def _free_blobs(self, conn: sqlite3.Connection, digests: set[str]) -> None:
        """Unlink blobs no attachment refers to any more (inside the write transaction that freed them)."""
        for digest in digests:
            if conn.execute("SELECT 1 FROM attachments WHERE blob = ? LIMIT 1", (digest,)).fetchone() is None:
                self.blob_path(digest).unlink(missing_ok=True)

    # -- queries ---------------------------------------------------------------------------------

    def find_token(self, token: str) -> TokenRow | None:
        """The access token with its user and org, or None if unknown."""
        row = self.connection().execute(
            "SELECT t.org, t.user, t.scopes, t.expires_at, t.revoked, o.dc, o.time_zone, u.permissions, u.restricted "
            "FROM tokens t JOIN orgs o ON o.id = t.org JOIN users u ON u.org = t.org AND u.id = t.user "
            "WHERE t.token = ?", (token,)).fetchone()
        return None if row is None else TokenRow(*row)

    def record_module(self, org: str, product: str, record_id: str) -> str | None:
        """The module of a live record, or None if there is no such record."""
        row = self.connection().execute(
            "SELECT module FROM records WHERE org = ? AND product = ? AND id = ?",
            (org, product, record_id)).fetchone()
        return None if row is None else row[0]

    def user_may_act(self, org: str, user: str, record_id: str) -> bool:
        """True if a restricted user was granted this record."""
        return self.connection().execute(
            "SELECT 1 FROM user_records WHERE org = ? AND user = ? AND record_id = ?",
            (org, user, record_id)).fetchone() is not None

    def user(self, org: str, user_id: str) -> UserRef | None:
        """A user of an org, or None."""
        row = self.connection().execute(
            "SELECT id, name, email FROM users WHERE org = ? AND id = ?", (org, user_id)).fetchone()
        return None if row is None else UserRef(*row)

    def users(self, org: str) -> list[UserRef]:
        """Every user of an org, in fixture order."""
        return [UserRef(*row) for row in self.connection().execute(
            "SELECT id, name, email FROM users WHERE org = ? ORDER BY rowid", (org,))]

    def org(self, org: str) -> tuple[str, str, str]:
        """An org's name, data centre and time zone."""
        return self.connection().execute("SELECT name, dc, time_zone FROM orgs WHERE id = ?", (org,)).fetchone()

    def list_attachments(self, org: str, product: str, record_id: str, offset: int,
                         limit: int) -> list[AttachmentRow]:
        """A page of a record's attachments, newest first."""
        rows = self.connection().execute(
            _ATTACHMENT_SELECT + " ORDER BY a.created_time DESC, a.id DESC LIMIT ? OFFSET ?",
            (org, product, record_id, limit, offset)).fetchall()
        return [_attachment_row(row) for row in rows]

    def find_attachment(self, org: str, product: str, record_id: str, attachment_id: str) -> AttachmentRow | None:
        """One attachment of a record, or None."""
        row = self.connection().execute(_ATTACHMENT_SELECT + " AND a.id = ?",
                                        (org, product, record_id, attachment_id)).fetchone()
        return None if row is None else _attachment_row(row)

    def add_attachment(self, org: str, product: str, record_id: str, *, file_name: str, content_type: str,
                       staged: StagedBlob | None, link_url: str | None, user: str, now: int) -> str:
        """Add a file (staged) or link attachment in one transaction and return its new id.

        Raises StoreConflict if the record is gone or the link is already attached to it.
        """
        try:
            with self.write() as conn:
                if conn.execute("SELECT 1 FROM records WHERE org = ? AND product = ? AND id = ?",
                                (org, product, record_id)).fetchone() is None:
                    raise StoreConflict("record")
                if link_url is not None and conn.execute(
                        "SELECT 1 FROM attachments WHERE org = ? AND product = ? AND record_id = ? AND link_url = ?",
                        (org, product, record_id, link_url)).fetchone() is not None:
                    raise StoreConflict("link")
                new_id = self._next_id(conn, org, product)
                created_blob = staged is not None and self._place_blob(staged)
                try:
                    conn.execute("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                        org, product, new_id, record_id, file_name, 0 if staged is None else staged.size,
                        content_type, link_url, None if staged is None else staged.digest, user, user, user,
                        now, now))
                except BaseException:
                    if created_blob:
                        self.blob_path(staged.digest).unlink(missing_ok=True)
                    raise
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)
        return new_id

    def _next_id(self, conn: sqlite3.Connection, org: str, product: str) -> str:
        """The next 19-digit id: the seed's prefix and a counter shared by every worker."""
        prefix = conn.execute("SELECT value FROM meta WHERE key = 'id_prefix'").fetchone()[0]
        while True:
            [(counter,)] = conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
                                        "WHERE key = 'id_counter' RETURNING value").fetchall()
            candidate = f"{prefix}{int(counter):012d}"
            taken = conn.execute(
                "SELECT 1 FROM attachments WHERE org = ? AND product = ? AND id = ? UNION ALL "
                "SELECT 1 FROM records WHERE org = ? AND product = ? AND id = ?",
                (org, product, candidate, org, product, candidate)).fetchone()
            if taken is None:
                return candidate

    def delete_attachments(self, org: str, product: str, record_id: str, ids: Sequence[str]) -> list[bool]:
        """Delete attachments of a record in one transaction; True for each id that existed."""
        with self.write() as conn:
            outcome, freed = [], set()
            for attachment_id in ids:
                rows = conn.execute(
                    "DELETE FROM attachments WHERE org = ? AND product = ? AND record_id = ? AND id = ? "
                    "RETURNING blob", (org, product, record_id, attachment_id)).fetchall()
                outcome.append(bool(rows))
                freed.update(blob for (blob,) in rows if blob)
            self._free_blobs(conn, freed)
        return outcome

    def delete_records(self, org: str, product: str, module: str, ids: Sequence[str],
                       restricted_user: str | None) -> list[str]:
        """Delete records and their attachments in one transaction.

        Returns per id `deleted`, `missing` or `forbidden` (a restricted user not granted the record).
        """
        with self.write() as conn:
            outcome, freed = [], set()
            for record_id in ids:
                exists = conn.execute(
                    "SELECT 1 FROM records WHERE org = ? AND product = ? AND module = ? AND id = ?",
                    (org, product, module, record_id)).fetchone()
                if exists is None:
                    outcome.append("missing")
                    continue
                if restricted_user is not None and not self.user_may_act(org, restricted_user, record_id):
                    outcome.append("forbidden")
                    continue
                freed.update(blob for (blob,) in conn.execute(
                    "DELETE FROM attachments WHERE org = ? AND product = ? AND record_id = ? RETURNING blob",
                    (org, product, record_id)).fetchall() if blob)
                conn.execute("DELETE FROM records WHERE org = ? AND product = ? AND id = ?",
                             (org, product, record_id))
                outcome.append("deleted")
            self._free_blobs(conn, freed)
        return outcome
