"""The request journal, in a database of its own beside the state's (a SQLite file, `<state>.requests`, or a
schema of the PostgreSQL database), so that a request that changes no state writes nothing to the state's."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Iterator, Mapping

if TYPE_CHECKING:
    from .postgres import PostgresDatabase
    from .sqlite import SqliteDatabase

COLUMNS = ("id", "time", "method", "path", "query", "headers", "body_size", "body_preview", "status", "code",
           "duration_ms", "org", "tag", "product", "response_headers", "response_size", "response_preview",
           "matched", "unmatched")
JSON_COLUMNS = ("headers", "response_headers")

# Keeps the journal within its cap (meta `cap`) as entries arrive, inside each insert's own transaction: every
# TRIM_EVERY-th entry drops those that have passed it, which writes one page less per request than dropping one
# entry each time. Readers see only the newest `cap` ids (VISIBLE).
TRIM_EVERY = 64
CAP = "(SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'cap')"  # BIGINT: PostgreSQL's INTEGER is 32-bit
VISIBLE = f"id > (SELECT COALESCE(MAX(id), 0) FROM journal) - {CAP}"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS journal(
        id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
        query TEXT NOT NULL, headers TEXT NOT NULL, body_size INTEGER NOT NULL, body_preview TEXT NOT NULL,
        status INTEGER NOT NULL, code TEXT, duration_ms REAL NOT NULL, org TEXT, tag TEXT, product TEXT,
        response_headers TEXT NOT NULL DEFAULT '{}', response_size INTEGER NOT NULL DEFAULT 0,
        response_preview TEXT NOT NULL DEFAULT '', matched TEXT, unmatched INTEGER NOT NULL DEFAULT 0)""",
    f"""CREATE TRIGGER IF NOT EXISTS journal_cap AFTER INSERT ON journal WHEN NEW.id % {TRIM_EVERY} = 0 BEGIN
        DELETE FROM journal WHERE id <= NEW.id - {CAP};
    END""")
# PostgreSQL's: the same tables in its words, the same trigger as a function.
POSTGRES_SCHEMA = (
    SCHEMA[0],
    "TABLE",  # SCHEMA[1], translated by postgres.table_ddl
    f"""CREATE OR REPLACE FUNCTION journal_cap() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id % {TRIM_EVERY} = 0 THEN DELETE FROM journal WHERE id <= NEW.id - {CAP}; END IF;
          RETURN NULL;
        END $$""",
    "CREATE OR REPLACE TRIGGER journal_cap AFTER INSERT ON journal FOR EACH ROW EXECUTE FUNCTION journal_cap()")
# What makes the ids start from 1 again once the journal is empty.
RESTART_IDS = {"sqlite": "DELETE FROM sqlite_sequence WHERE name = 'journal'",
               # setval, not ALTER TABLE: that would lock the table against the appends queued on the journal's lock
               "postgresql": "SELECT setval(pg_get_serial_sequence('journal', 'id'), 1, false)"}
# Run before deleting entries by org or tag, which could take the newest ids and so bring old ones back in view.
TRIM = f"DELETE FROM journal WHERE NOT ({VISIBLE})"
# A SELECT, not VALUES: PostgreSQL's append adds the FROM that takes the journal's lock in the same statement.
INSERT = f"INSERT INTO journal({', '.join(COLUMNS[1:])}) SELECT {', '.join('?' * (len(COLUMNS) - 1))}"


@dataclass(frozen=True)
class JournalFilter:
    """Which journal entries a query is about; None matches anything."""

    method: str | None = None
    path: str | None = None      # a glob
    status: int | None = None
    code: str | None = None
    org: str | None = None
    tag: str | None = None
    since: float | None = None   # epoch seconds
    after: int | None = None     # entries with a greater id
    unmatched: bool | None = None

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE clause over the entries within the cap (the path glob is applied in Python: SQLite's GLOB
        is case-sensitive too, but differs from fnmatch on `[!...]`)."""
        clauses, args = [VISIBLE], []
        for column, value in (("method", self.method), ("status", self.status), ("code", self.code),
                              ("org", self.org), ("tag", self.tag), ("unmatched", self.unmatched)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value.upper() if column == "method" else value)
        for column, operator, value in (("time", ">=", self.since), ("id", ">", self.after)):
            if value is not None:
                clauses.append(f"{column} {operator} ?")
                args.append(value)
        return " AND ".join(clauses), args


def _lay_out(conn: Any, dialect: str) -> None:
    """Lay out the journal, rebuilding one of an older layout (ids that were reused, no answers) with its entries."""
    if dialect == "postgresql":
        # Laid out once: DDL on a laid-out journal would wait for the appends' table locks while they wait for the
        # journal's lock, which this holds (a deadlock).
        if conn.execute("SELECT to_regclass('journal')").fetchone()[0] is None:
            from .postgres import table_ddl
            for statement in POSTGRES_SCHEMA:
                conn.execute(table_ddl(SCHEMA[1]) if statement == "TABLE" else statement)
        return
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal'").fetchone()
    if row is not None and "AUTOINCREMENT" not in row[0]:
        kept = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(journal)") if r[1] in COLUMNS)
        conn.execute("ALTER TABLE journal RENAME TO journal_before")
        conn.execute(SCHEMA[1])
        conn.execute(f"INSERT INTO journal({kept}) SELECT {kept} FROM journal_before")
        conn.execute("DROP TABLE journal_before")  # and its trigger, made again below
    for statement in SCHEMA:
        conn.execute(statement)


def _clear(conn: Any, dialect: str, org: str | None, tag: str | None) -> int:
    _lay_out(conn, dialect)  # a reset may come before any app opened the journal
    clause, args = JournalFilter(org=org, tag=tag).sql()
    conn.execute(TRIM)
    deleted = conn.execute(f"DELETE FROM journal WHERE {clause}", args).rowcount
    if conn.execute("SELECT 1 FROM journal LIMIT 1").fetchone() is None:
        conn.execute(RESTART_IDS[dialect])  # ids start from 1 again
    return deleted


class Journal:
    """Every API request the mock served, newest last, capped, shared by all workers."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self.db = db
        self._dialect = db.dialect.name

    def open(self, cap: int) -> None:
        """Lay out the file if new, and make `cap` the one the trigger keeps (every worker sets the same)."""
        with self.db.write() as conn:
            _lay_out(conn, self._dialect)
            conn.execute("INSERT INTO meta(key, value) VALUES ('cap', ?) ON CONFLICT(key) DO UPDATE SET value = "
                         "excluded.value", (str(cap),))

    def record(self, entry: Mapping[str, Any]) -> None:
        """One entry, in one statement (the trigger drops what has passed the cap)."""
        self.db.append(INSERT, [json.dumps(entry[c]) if c in JSON_COLUMNS else entry[c] for c in COLUMNS[1:]])

    def find(self, where: JournalFilter, limit: int, oldest_first: bool = False) -> list[dict[str, Any]]:
        """Matching entries, newest first (or oldest first, as a follower reads them)."""
        clause, args = where.sql()
        rows = self.db.connection().execute(
            f"SELECT {', '.join(COLUMNS)} FROM journal WHERE {clause} ORDER BY id {'ASC' if oldest_first else 'DESC'}",
            args)
        found = []
        for row in rows:
            entry = dict(zip(COLUMNS, row))
            if where.path is not None and not fnmatchcase(entry["path"], where.path):
                continue
            for column in JSON_COLUMNS:
                entry[column] = json.loads(entry[column])
            entry["unmatched"] = bool(entry["unmatched"])
            found.append(entry)
            if len(found) >= limit:
                break
        return found

    def count(self, where: JournalFilter) -> int:
        clause, args = where.sql()
        conn = self.db.connection()
        if where.path is None:
            return conn.execute(f"SELECT COUNT(*) FROM journal WHERE {clause}", args).fetchone()[0]
        return sum(1 for (path,) in conn.execute(f"SELECT path FROM journal WHERE {clause}", args)
                   if fnmatchcase(path, where.path))

    def clear(self, org: str | None = None, tag: str | None = None) -> int:
        """Drop the entries of an org, of a tag, of both, or (neither given) all; how many were visible."""
        with self.db.write() as conn:
            return _clear(conn, self._dialect, org, tag)

    @contextmanager
    def cleared_after(self, org: str | None = None) -> Iterator[None]:
        """Clear the journal (of one org, or all) once the block is done, holding its write lock throughout:
        a call answered after a reset keeps its entry, one answered before it does not. (Nothing is cleared
        if the block raises.)"""
        with self.db.write() as conn:
            yield
            _clear(conn, self._dialect, org, None)

    def close(self) -> None:
        self.db.close()
