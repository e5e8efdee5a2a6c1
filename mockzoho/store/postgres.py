"""A PostgreSQL database as the state, shared by every worker of every host that is given its URL.

- Connections come from psycopg's pool, one per statement, or one per write transaction, which takes a
  transaction-scoped advisory lock first: writers queue on it across hosts as they queue on SQLite's writers'
  lock, so every rule the store checks before it writes (a unique value, an attachment still there) holds.
- The statements are the store's own, written in the SQL both databases speak with SQLite's `?` and `?N`
  placeholders, which `_placeholders` turns into psycopg's. What differs is in `dialect.PostgresDialect` and in
  the layout here (`schema`), made from the SQLite one so that the two cannot drift apart.
- Blobs are rows: `blobs` names each one and its size, `blob_parts` holds its bytes in parts of at most
  `BLOB_PART` bytes (bytea holds 1 GB at most, and a download reads one part at a time). A blob is placed and
  freed inside the transaction that writes the rows naming it, so any host serves what another took and a
  rollback takes its blob with it; the parts of a large upload are copied in before that transaction, outside
  the writers' lock, and that transaction checks they are all still there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from functools import lru_cache
from io import BytesIO, RawIOBase
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence

from .blobs import StagedBlob, blob_used
from .core import StateError, shown_location
from .dialect import POSTGRES
from .schema import columns, statements

log = logging.getLogger(__name__)
STATE_LOCK, JOURNAL_LOCK = 0x6D6F636B7A6F686F, 0x6D6F636B6A726E6C  # advisory lock keys: "mockzoho", "mockjrnl"
JOURNAL_SCHEMA = "mockzoho_journal"  # the journal's tables, apart from the state's under the same names
POOL_SIZE = 8  # connections per process and pool (the state's, the journal's): a statement holds one only while it runs
CONNECT_SECONDS = 10
CODE_POINT_ORDER = ("C", "POSIX", "C.UTF-8", "C.utf8")  # collations that order text as SQLite does
BLOB_PART = 1 << 20  # the bytes of a blob's part (one row of `blob_parts`)
BLOB_PARTS = ("CREATE TABLE IF NOT EXISTS blob_parts(digest TEXT NOT NULL, part BIGINT NOT NULL, "
              "content BYTEA NOT NULL, PRIMARY KEY(digest, part))")

# The layout beside the tables made from the SQLite schema: the blobs, the triggers SQLite writes in its own
# dialect, and the jsonb aggregates the dialect uses.
EXTRA = (
    "CREATE TABLE IF NOT EXISTS blobs(digest TEXT PRIMARY KEY, size BIGINT NOT NULL)",
    BLOB_PARTS,
    # SQLite's key of `record_values`: one row per value of a field of a record; equality by a hash index (no size
    # limit), ranges and prefixes over the field's rows.
    "CREATE UNIQUE INDEX IF NOT EXISTS record_values_key ON record_values"
    "(org, product, module, field, record_id, md5(value::text))",
    "CREATE INDEX IF NOT EXISTS record_values_by_field ON record_values(org, product, module, field)",
    "CREATE INDEX IF NOT EXISTS record_values_by_value ON record_values USING hash (value)",
    """CREATE OR REPLACE FUNCTION mockzoho_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN UPDATE counters SET credentials = credentials + 1; RETURN NULL; END $$""",
    *(f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION mockzoho_credentials_changed()" for table in ("tokens", "users", "orgs")),
    """CREATE OR REPLACE FUNCTION mockzoho_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO changed_records(org, product, id) VALUES (NEW.org, NEW.product, NEW.id) ON CONFLICT DO NOTHING;
         ELSE
           INSERT INTO changed_records(org, product, id) VALUES (OLD.org, OLD.product, OLD.id) ON CONFLICT DO NOTHING;
         END IF;
         RETURN NULL;
       END $$""",
    "CREATE OR REPLACE TRIGGER records_changed AFTER INSERT OR UPDATE OR DELETE ON records "
    "FOR EACH ROW EXECUTE FUNCTION mockzoho_record_changed()",
    "CREATE OR REPLACE FUNCTION mockzoho_scalar(v jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS 'SELECT CASE "
    "jsonb_typeof(v) WHEN ''null'' THEN NULL WHEN ''boolean'' THEN to_jsonb(v::boolean::int) ELSE v END'",
    "CREATE OR REPLACE FUNCTION mockzoho_least(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT "
    "AS 'SELECT CASE WHEN a <= b THEN a ELSE b END'",
    "CREATE OR REPLACE FUNCTION mockzoho_greatest(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT "
    "AS 'SELECT CASE WHEN a >= b THEN a ELSE b END'",
    "CREATE OR REPLACE AGGREGATE mockzoho_min(jsonb) (SFUNC = mockzoho_least, STYPE = jsonb)",
    "CREATE OR REPLACE AGGREGATE mockzoho_max(jsonb) (SFUNC = mockzoho_greatest, STYPE = jsonb)",
)


# How a state of an older layout becomes this one, in one transaction (`schema()` runs after, for what is new):
# 14 keeps a blob's bytes in parts, where 13 kept them in one bytea of `blobs`.
UPGRADES = {
    "13": (BLOB_PARTS,
           # Each blob read once into a variable: a substring of a compressed stored value decompresses it up to the
           # slice's end, which part by part would cost the square of its size.
           f"""DO $$ DECLARE blob record; whole bytea; BEGIN
                 FOR blob IN SELECT digest FROM blobs LOOP
                   SELECT b.content || ''::bytea INTO whole FROM blobs b WHERE b.digest = blob.digest;
                   INSERT INTO blob_parts(digest, part, content)
                     SELECT blob.digest, part, substring(whole FROM part * {BLOB_PART} + 1 FOR {BLOB_PART})
                     FROM generate_series(0, (length(whole) + {BLOB_PART - 1}) / {BLOB_PART} - 1) AS part;
                 END LOOP;
               END $$""",
           "ALTER TABLE blobs ADD COLUMN size BIGINT", "UPDATE blobs SET size = length(content)",
           "ALTER TABLE blobs DROP COLUMN content", "ALTER TABLE blobs ALTER COLUMN size SET NOT NULL"),
}


def table_ddl(sqlite: str) -> str:
    """A CREATE TABLE or CREATE INDEX of the SQLite layout in PostgreSQL's words: 64-bit integers and doubles
    (PostgreSQL's INTEGER and REAL are 32-bit), identities for AUTOINCREMENT, jsonb for the untyped indexed
    `value`, and a `rowid` identity where SQLite has an implicit one (what "in insertion order" is ordered by)."""
    fixture_copy = re.fullmatch(r"\s*CREATE TABLE IF NOT EXISTS (\w+) AS SELECT \* FROM (\w+) WHERE 0\s*", sqlite)
    if fixture_copy:  # a pristine copy: the columns and their defaults, no keys (as SQLite's CREATE ... AS is)
        return (f"CREATE TABLE IF NOT EXISTS {fixture_copy[1]} "
                f"(LIKE {fixture_copy[2]} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    ddl = re.sub(r"--[^\n]*", "", sqlite).strip()
    if not ddl.startswith("CREATE TABLE"):
        return ddl
    keeps_rowid = "WITHOUT ROWID" not in ddl and "AUTOINCREMENT" not in ddl
    ddl = ddl.replace(") WITHOUT ROWID", ")")
    ddl = ddl.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    ddl = re.sub(r"\bINTEGER\b", "BIGINT", ddl)
    ddl = re.sub(r"\bREAL\b", "DOUBLE PRECISION", ddl)
    ddl = re.sub(r"\bvalue NOT NULL\b", "value JSONB NOT NULL", ddl)
    # A btree entry holds at most 2704 bytes, and a value may be any text: the key of the values is an index on its
    # digest instead (VALUE_INDEXES), so that a long description is kept as SQLite keeps it.
    ddl = ddl.replace(",\n    PRIMARY KEY(org, product, module, field, value, record_id))", ")")
    if keeps_rowid:
        ddl = ddl[:-1].rstrip() + ",\n    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY)"
    return ddl


def schema() -> list[str]:
    """Every statement that lays out the state in PostgreSQL (all idempotent)."""
    return [table_ddl(s) for s in statements() if not s.lstrip().startswith("CREATE TRIGGER")] + list(EXTRA)


@lru_cache(maxsize=4096)
def _placeholders(sql: str) -> tuple[str, bool]:
    """SQLite's `?` and `?N` placeholders as psycopg's `%s` and `%(pN)s` (a name used twice is one parameter,
    so that PostgreSQL types it once), `%` doubled; quoted text and names are left as they are. True if
    numbered."""
    out, numbered, i = [], False, 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            end = sql.index(char, i + 1) + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif char == "$" and sql.startswith("$$", i):  # a function's body
            end = sql.index("$$", i + 2) + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif char == "?":
            digits = re.match(r"\d+", sql[i + 1:])
            if digits:
                out.append(f"%(p{digits[0]})s")
                numbered = True
                i += 1 + len(digits[0])
            else:
                out.append("%s")
                i += 1
        elif char == "%":
            out.append("%%")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out), numbered


def _arguments(numbered: bool, params: Sequence[Any]) -> Sequence[Any] | dict[str, Any]:
    return {f"p{n}": value for n, value in enumerate(params, 1)} if numbered else tuple(params)


class Rows:
    """What a statement gave, read in full (its connection is back in the pool): rows, and how many it changed."""

    def __init__(self, rows: list[tuple], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return self._rows

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._rows)


class Connection:
    """A psycopg connection that takes the store's statements as a sqlite3 connection does."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        if params:
            text, numbered = _placeholders(sql)
            cursor = self.raw.execute(text, _arguments(numbered, params))
        else:  # psycopg reads no placeholder (nor a `%`) in a statement without parameters
            cursor = self.raw.execute(sql)
        return Rows(cursor.fetchall() if cursor.description is not None else [], cursor.rowcount)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        text, numbered = _placeholders(sql)
        rows = [_arguments(numbered, params) for params in seq]
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(text, rows)


class Pooled:
    """The connection of a thread outside a transaction: each statement borrows one from the pool."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self.database.said_as_state_problem(), self.database.pool().connection() as raw:
            return Connection(raw).execute(sql, params)


class PostgresDatabase:
    """A PostgreSQL database (or, for the journal, a schema of it) as the state."""

    dialect = POSTGRES
    upgrades = UPGRADES

    def __init__(self, url: str, schema_name: str | None = None, lock: int = STATE_LOCK) -> None:
        try:
            import psycopg  # noqa: F401 (a missing driver is said here, once, as a state problem)
            import psycopg_pool  # noqa: F401
        except ImportError as exc:
            raise StateError(f"mockzoho: a PostgreSQL state needs psycopg and psycopg-pool: "
                             f"pip install 'mockzoho[postgresql]' ({exc})") from None
        self.url, self.schema_name, self.lock = url, schema_name, lock
        self.name = shown_location(url)
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        # Uploads are staged on this host's disk before they become rows: the folder is per host and per state.
        self.staging = Path(tempfile.gettempdir()) / f"mockzoho-staging-{os.getuid()}-{digest}"
        self._local = threading.local()
        self._pools: dict[int, Any] = {}  # by process: a pool must not cross a fork
        self._guard = threading.Lock()

    # -- connections -----------------------------------------------------------------------------

    def pool(self) -> Any:
        """This process's pool, made on first use (after a fork the child makes its own, and leaves the parent's
        alone: closing it would end the parent's sessions, which share its sockets)."""
        pid = os.getpid()
        pool = self._pools.get(pid)
        if pool is None:
            with self._guard:
                pool = self._pools.get(pid)
                if pool is None:
                    pool = self._pools[pid] = self._open_pool()
        return pool

    def _open_pool(self) -> Any:
        import psycopg
        from psycopg_pool import ConnectionPool

        options = {"autocommit": True, "connect_timeout": CONNECT_SECONDS}
        if self.schema_name is not None:
            options["options"] = f"-c search_path={self.schema_name}"
        # One connection first: a wrong URL, password or collation is said at once, not after the pool's timeout.
        with self.said_as_state_problem(), psycopg.connect(self.url, **options) as probe:
            _check_collation(probe, self.name)
        return ConnectionPool(self.url, min_size=1, max_size=POOL_SIZE, kwargs=options, configure=_configure,
                              timeout=CONNECT_SECONDS * 3, name=f"mockzoho-{os.getpid()}", open=True)

    def connection(self) -> Connection | Pooled:
        """The thread's transaction if it is in one, else a connection whose statements each borrow one."""
        current = getattr(self._local, "transaction", None)
        return current if current is not None else Pooled(self)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, after every other writer of the state (on any host) is done."""
        if getattr(self._local, "transaction", None) is not None:  # its own lock, on another connection: a deadlock
            raise RuntimeError("a write transaction inside another")
        with self.said_as_state_problem(), self.pool().connection() as raw, raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock,))
            self._local.transaction = Connection(raw)
            try:
                yield self._local.transaction
            finally:
                self._local.transaction = None

    @contextmanager
    def said_as_state_problem(self) -> Iterator[None]:
        """The server's refusals (a role that may not create a table, a database gone) as StateError, said in one
        line by `mockzoho serve` at start-up, as a SQLite file's problems are."""
        import psycopg

        try:
            yield
        except psycopg.Error as exc:  # one line: libpq's messages run over several
            raise StateError(f"mockzoho: cannot use the state {self.name}: {' '.join(str(exc).split())}") from exc

    def append(self, insert: str, params: Sequence[object]) -> None:
        """One `INSERT ... SELECT ?, ...` that only adds a row (a journal entry), in one statement of its own: it
        waits for no other append, only for a writer holding the lock alone (a clear), and it takes one round trip
        where a transaction would take four."""
        self.connection().execute(f"{insert} FROM (SELECT pg_advisory_xact_lock_shared({self.lock})) AS writers",
                                  params)

    def close(self) -> None:
        """Close this process's pool (the next statement opens another)."""
        pool = self._pools.pop(os.getpid(), None)
        if pool is not None:
            pool.close()

    # -- the layout ------------------------------------------------------------------------------

    def meta(self) -> dict[str, str] | None:
        """The state's meta table, or None if the database holds no state yet."""
        conn = self.connection()
        if conn.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
            return None
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())

    def remove(self) -> None:
        """Drop the state's tables, functions and journal; whatever else the database holds stays."""
        tables = [*columns(), "blobs", "blob_parts"]
        with self.write() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {JOURNAL_SCHEMA} CASCADE")
            for function in ("mockzoho_min(jsonb)", "mockzoho_max(jsonb)"):
                conn.execute(f"DROP AGGREGATE IF EXISTS {function}")
            for function in ("mockzoho_least(jsonb, jsonb)", "mockzoho_greatest(jsonb, jsonb)",
                             "mockzoho_scalar(jsonb)", "mockzoho_credentials_changed()", "mockzoho_record_changed()"):
                conn.execute(f"DROP FUNCTION IF EXISTS {function}")
        self.close()

    def journal(self) -> PostgresDatabase:
        """Where the request journal lives: a schema of its own in the same database, under a lock of its own."""
        if self.connection().execute("SELECT to_regnamespace(?)", (JOURNAL_SCHEMA,)).fetchone()[0] is None:
            with self.write() as conn:  # not every worker's start: it would wait for every host's writers
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {JOURNAL_SCHEMA}")
        return PostgresDatabase(self.url, JOURNAL_SCHEMA, JOURNAL_LOCK)

    @staticmethod
    def schema() -> list[str]:
        return schema()

    # -- blobs: `blobs` names them, `blob_parts` holds their bytes ------------------------------------------

    def blob_source(self, digest: str) -> BlobReader | None:
        """A reader of the blob's bytes (a blob of one part read already, in the same statement); None if it is
        gone."""
        row = self.connection().execute(
            "SELECT b.size, p.content FROM blobs b LEFT JOIN blob_parts p "
            "ON p.digest = b.digest AND p.part = 0 AND b.size <= ? WHERE b.digest = ?", (BLOB_PART, digest)).fetchone()
        if row is None:
            return None
        size, whole = row  # no part at all for an empty blob, none read for one of several
        return BlobReader(self, digest, size, b"" if size == 0 else whole)

    def read_part(self, digest: str, part: int) -> bytes | None:
        """One part of a blob's bytes; None if the blob is gone."""
        row = self.connection().execute("SELECT content FROM blob_parts WHERE digest = ? AND part = ?",
                                        (digest, part)).fetchone()
        return None if row is None else row[0]

    def put_blob(self, content: bytes, digest: str) -> None:
        """Store `content` under its sha256 (inside a write transaction: seeding's)."""
        self._place(self.connection(), digest, len(content), lambda: BytesIO(content))

    @contextmanager
    def write_blobs(self, staged: StagedBlob | None) -> Iterator[tuple[Connection, set[str]]]:
        """A write transaction that places `staged` (if given) and, before it commits, frees each blob the body
        added to the yielded set that no row refers to any more. A staged upload of more than one part is copied
        in before, outside the writers' lock; if the transaction fails, its parts go again."""
        copied = staged is not None and staged.size > BLOB_PART
        if copied:
            self._copy_parts(staged)
        try:
            with self.write() as conn:
                if staged is not None:
                    self._place(conn, staged.digest, staged.size, lambda: staged.path.open("rb"))
                dropped: set[str] = set()
                yield conn, dropped
                for digest in dropped:
                    if conn.execute(blob_used(), (digest,)).fetchone() is None:
                        self._free(conn, digest)
        except BaseException:
            if copied:
                self._free_unplaced(staged.digest)
            raise

    def _free_unplaced(self, digest: str) -> None:
        """Free the parts a failed upload copied in, unless a blob has them; at best (a sweep frees them anyway):
        the upload's own error is what its caller must see, not this one's."""
        try:
            with self.write() as conn:
                if not _stored(conn, digest):
                    self._free(conn, digest)
        except Exception:  # noqa: BLE001 (the database gone, a write inside another): said, and left to the sweep
            log.warning("the parts of a failed upload (%s) are left to the sweep", digest, exc_info=True)

    def _copy_parts(self, staged: StagedBlob) -> None:
        """Copy a staged upload's parts in, in a transaction of their own that no other writer waits on."""
        if _stored(self.connection(), staged.digest):
            return  # the same bytes are stored already
        with self.said_as_state_problem(), self.pool().connection() as raw, raw.transaction():
            with staged.path.open("rb") as stream:
                _insert_parts(Connection(raw), staged.digest, stream)

    @staticmethod
    def _place(conn: Connection, digest: str, size: int, open_bytes: Callable[[], BinaryIO]) -> None:
        """Make the blob part of the state (under the writers' lock), with whichever of its parts are not there:
        all of them for a small one, none for a large one copied in before (unless a sweep freed them since)."""
        if _stored(conn, digest):
            return
        (parts,) = conn.execute("SELECT count(*) FROM blob_parts WHERE digest = ?", (digest,)).fetchone()
        if parts != -(-size // BLOB_PART):
            with open_bytes() as stream:
                _insert_parts(conn, digest, stream)
        conn.execute("INSERT INTO blobs(digest, size) VALUES (?, ?)", (digest, size))

    @staticmethod
    def _free(conn: Connection, digest: str) -> None:
        conn.execute("DELETE FROM blobs WHERE digest = ?", (digest,))
        conn.execute("DELETE FROM blob_parts WHERE digest = ?", (digest,))

    def stored_blobs(self) -> list[str]:
        """Blobs no row refers to, and parts no blob names (an upload's whose transaction never came: a host
        killed between the two); a blob and its rows commit together."""
        return [digest for (digest,) in self.connection().execute(
            f"SELECT digest FROM blobs WHERE NOT EXISTS ({blob_used().replace('?1', 'blobs.digest')}) UNION "
            "SELECT DISTINCT digest FROM blob_parts p WHERE NOT EXISTS "
            "(SELECT 1 FROM blobs b WHERE b.digest = p.digest)")]


def _stored(conn: Connection | Pooled, digest: str) -> bool:
    """Whether the blob is part of the state (its parts may be there without it: an upload's on their way)."""
    return conn.execute("SELECT 1 FROM blobs WHERE digest = ?", (digest,)).fetchone() is not None


def _insert_parts(conn: Connection, digest: str, stream: BinaryIO) -> None:
    """The blob's parts from `stream`, one part in memory at a time (a part there already is kept)."""
    part = 0
    while content := stream.read(BLOB_PART):
        conn.execute("INSERT INTO blob_parts(digest, part, content) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                     (digest, part, content))
        part += 1


class BlobReader(RawIOBase):
    """A blob's bytes as a seekable file that reads them a part at a time, as a download is sent. A blob of one
    part is read when it is opened (`whole`), so it is served whole even if it is deleted meanwhile; a larger one
    deleted while it is sent ends short (its connection closes), as a file on disk would not."""

    def __init__(self, database: PostgresDatabase, digest: str, size: int, whole: bytes | None) -> None:
        super().__init__()
        self.database, self.digest, self.size = database, digest, size
        self.position, self.part, self.content = 0, (0 if whole is not None else -1), whole or b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.position, self.size)[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.size:
            return 0
        part, within = divmod(self.position, BLOB_PART)
        if part != self.part:
            content = self.database.read_part(self.digest, part)
            if content is None:
                raise OSError(f"blob {self.digest} was deleted while it was sent")
            self.part, self.content = part, content
        count = min(len(buffer), len(self.content) - within)
        buffer[:count] = self.content[within:within + count]
        self.position += count
        return count


def _configure(raw: Any) -> None:
    """Adapt Python values as sqlite3 does: text as text (not an untyped literal), booleans as 0 and 1."""
    from psycopg.adapt import Dumper
    from psycopg.types.string import StrDumper

    class BoolAsInteger(Dumper):
        oid = 20  # int8

        def dump(self, obj: bool) -> bytes:
            return b"1" if obj else b"0"

    class TextWithoutNul(StrDumper):
        """PostgreSQL's text cannot hold NUL (a path or a preview of a hostile call may): it is kept as U+FFFD."""

        def dump(self, obj: str) -> bytes:
            return super().dump(obj.replace("\0", "\ufffd") if "\0" in obj else obj)

    raw.adapters.register_dumper(str, TextWithoutNul)
    raw.adapters.register_dumper(bool, BoolAsInteger)


def _check_collation(raw: Any, name: str) -> None:
    """Refuse a database whose text order or case folding is not SQLite's (code points, ASCII)."""
    # As jsonb, so that a server without `datlocprovider` (before PostgreSQL 15: libc's alone) is read too.
    (database,) = raw.execute("SELECT to_jsonb(d) FROM pg_database d WHERE datname = current_database()").fetchone()
    collate, ctype = database["datcollate"], database["datctype"]
    if database.get("datlocprovider", "c") != "c":
        collate = f"ICU {database.get('daticulocale')}"
    if collate not in CODE_POINT_ORDER or ctype not in CODE_POINT_ORDER:
        raise StateError(
            f"mockzoho: the database of {name} sorts text by {collate!r} ({ctype!r}); mockzoho needs the C "
            "collation, as Zoho's order is by code point: CREATE DATABASE ... TEMPLATE template0 LC_COLLATE 'C' "
            "LC_CTYPE 'C'")

