"""What every store module stands on: the state's database (a SQLite file or a PostgreSQL database, chosen by
its location), the typed refusals, and the server clock. Nothing above the store knows which database runs."""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .postgres import PostgresDatabase
    from .sqlite import SqliteDatabase

SMALLEST_INTEGER, LARGEST_INTEGER = -(2**63), 2**63 - 1  # both databases': a client's number is checked against them
POSTGRES_SCHEMES = ("postgresql", "postgres")

Location = Union[Path, str]  # a SQLite file, or a PostgreSQL URL
# A sqlite3 connection, or `postgres.Connection`: both take the store's statements, with `?` placeholders.
Connection = Any


class StateError(Exception):
    """The state cannot be used (another schema version, unreadable, unreachable, ...)."""


class StoreError(Exception):
    """A call the state refuses (the base of the store's typed errors, which callers catch by type)."""


# What opening a state may raise (a PostgreSQL database's problems arrive as StateError: psycopg is not imported
# for a SQLite state).
STATE_PROBLEMS = (StateError, OSError, sqlite3.Error)


def state_problem(location: Location, exc: Exception) -> str:
    """One line saying why the state at `location` cannot be used."""
    if isinstance(exc, StateError):
        return str(exc)
    return f"mockzoho: cannot use the state {shown_location(location)}: {exc}"


def is_database_url(location: Location) -> bool:
    """True if the state is a PostgreSQL database (`postgresql://...`), not a SQLite file."""
    return isinstance(location, str) and urllib.parse.urlsplit(location).scheme in POSTGRES_SCHEMES


def shown_location(location: Location) -> str:
    """The state's location as it may be printed: a database URL without its password."""
    if not is_database_url(location):
        return str(location)
    parts = urllib.parse.urlsplit(str(location))
    if parts.password is None:
        return str(location)
    netloc = parts.netloc.rsplit("@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


def open_database(location: Location) -> SqliteDatabase | PostgresDatabase:
    """The database behind a state location (psycopg is imported only for a PostgreSQL one)."""
    if is_database_url(location):
        from .postgres import PostgresDatabase
        return PostgresDatabase(str(location))
    from .sqlite import SqliteDatabase
    return SqliteDatabase(Path(location))


def remove_state(location: Location) -> None:
    """Delete the state at `location` (used by `--fresh`): a SQLite file and what lies beside it, or the tables of
    a PostgreSQL database."""
    database = open_database(location)
    try:
        database.remove()
    finally:
        database.close()


@dataclass(frozen=True)
class StateView:
    """The server time, the fixtures' generation and the credentials' (workers reload what they cache
    when one changes), and whether any fault, rate limit or stub is set (if not, requests skip looking)."""

    now: float
    generation: int
    credentials: int
    faults: bool
    limits: bool
    stubs: bool


class Core:
    """The state's database: its connections and transactions, and the clock every worker and host shares."""

    def __init__(self, location: Location) -> None:
        self.db = open_database(location)
        self.blobs = self.db.staging  # where uploads are staged (for a SQLite state, where blobs live too)
        self._local = threading.local()  # per-thread caches of the query classes (tokens)

    @property
    def name(self) -> str:
        """The state's location as it may be printed."""
        return self.db.name

    def connection(self) -> Connection:
        """This thread's connection."""
        return self.db.connection()

    def write(self) -> AbstractContextManager:
        """A write transaction, taken up front so concurrent writers (of every worker and host) queue."""
        return self.db.write()

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one) and what the process keeps open."""
        self.db.close()
        self._local.__dict__.clear()

    def now(self) -> float:
        """The server time (epoch seconds): real, shifted, or frozen, the same for every worker."""
        frozen, shift = self.connection().execute("SELECT frozen, shift FROM counters").fetchone()
        return frozen if frozen is not None else time.time() + shift

    def view(self) -> StateView:
        """What every request needs to know first, in one query."""
        frozen, shift, generation, credentials, faults, limits, stubs = self.connection().execute(
            "SELECT frozen, shift, generation, credentials, faults, limits, stubs FROM counters").fetchone()
        return StateView(frozen if frozen is not None else time.time() + shift, generation, credentials, faults > 0,
                         limits > 0, stubs > 0)

