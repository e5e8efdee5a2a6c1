"""The control API's state: faults, rate limits, minted tokens and the clock (no HTTP; the journal is in
`store.journal`)."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, Iterable

from ..cosmos.errors import CATALOGUE as COSMOS_CATALOGUE
from ..store import Store, issue_access_token, issue_refresh_token
from ..zoho.errors import CATALOGUE as ZOHO_CATALOGUE

# The server clock's range (Zoho dates stay four-digit years; 1971 keeps epochs positive).
EARLIEST, LATEST = datetime(1971, 1, 1, tzinfo=timezone.utc), datetime(9000, 1, 1, tzinfo=timezone.utc)


class AdminConflict(Exception):
    """A control-API request the state refuses; the message says why."""


# -- faults --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A fault as set: what it matches, what it does, and how often."""

    id: int
    spec: dict[str, Any]
    remaining: int | None

    def matches(self, product: str | None, method: str, path: str, org: str | None, token: str | None) -> bool:
        match = self.spec.get("match", {})
        code = self.spec.get("respond", {}).get("code")
        if code is not None and not code_fits(product, code):
            return False  # a Zoho code never answers a Cosmos DB call, nor the other way round
        return ((match.get("product") is None or match["product"] == product)
                and (match.get("method") is None or match["method"].upper() == method)
                and (match.get("path") is None or fnmatchcase(path, match["path"]))
                and (match.get("org") is None or match["org"] == org)
                and (match.get("token") is None or match["token"] == token))


def code_fits(product: str | None, code: str) -> bool:
    """Whether a fault's error code can answer a call of that product: Cosmos DB and Zoho codes come from
    their catalogues; the accounts server answers any `{"error": "<code>"}`."""
    if product == "accounts":
        return True
    return code in (COSMOS_CATALOGUE if product == "cosmos" else ZOHO_CATALOGUE)


class Faults:
    """Faults in the vendor's own terms, shared by all workers; each firing is counted exactly once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, spec: dict[str, Any]) -> int:
        with self.store.write() as conn:
            org = spec.get("match", {}).get("org")
            cursor = conn.execute("INSERT INTO faults(spec, org, remaining) VALUES (?, ?, ?)",
                                  (json.dumps(spec), org, spec.get("times")))
            self._count(conn)
            return cursor.lastrowid

    def all(self, org: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.connection().execute(
            "SELECT id, spec, remaining, hits FROM faults WHERE ?1 IS NULL OR org = ?1 ORDER BY id", (org,))
        return [{"id": i, **json.loads(spec), "remaining": remaining, "hits": hits}
                for i, spec, remaining, hits in rows]

    def remove(self, fault_id: int | None, org: str | None = None) -> int:
        with self.store.write() as conn:
            if fault_id is not None:
                removed = conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount
            elif org is not None:
                removed = conn.execute("DELETE FROM faults WHERE org = ?", (org,)).rowcount
            else:
                removed = conn.execute("DELETE FROM faults").rowcount
            self._count(conn)
            return removed

    def fire(self, product: str | None, method: str, path: str, org: str | None,
             token: str | None) -> dict[str, Any] | None:
        """The spec of the first fault that matches and fires on this call (consuming one of its `times`)."""
        rows = self.store.connection().execute("SELECT id, spec, remaining FROM faults ORDER BY id").fetchall()
        for fault in (Fault(i, json.loads(spec), remaining) for i, spec, remaining in rows):
            if fault.matches(product, method, path, org, token) and self._fires(fault):
                return fault.spec
        return None

    def _fires(self, fault: Fault) -> bool:
        """Count the call; a fault with `times` fires while some are left, one with a probability by its seed."""
        with self.store.write() as conn:
            if fault.remaining is not None:
                return bool(conn.execute("UPDATE faults SET remaining = remaining - 1, hits = hits + 1 "
                                         "WHERE id = ? AND remaining > 0 RETURNING id", (fault.id,)).fetchall())
            rows = conn.execute("UPDATE faults SET hits = hits + 1 WHERE id = ? RETURNING hits",
                                (fault.id,)).fetchall()
        if not rows:
            return False  # removed meanwhile
        [(hits,)] = rows
        probability = fault.spec.get("probability")
        return probability is None or random.Random(f"{fault.spec.get('seed', 0)}:{hits}").random() < probability

    @staticmethod
    def _count(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE clock SET faults = (SELECT COUNT(*) FROM faults)")


# -- rate limits ---------------------------------------------------------------------------------

class Limits:
    """Per-org budgets of calls per window and of calls in flight, shared by all workers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, org: str, calls: int | None, window: float | None, concurrency: int | None) -> None:
        with self.store.write() as conn:
            conn.execute("INSERT OR REPLACE INTO limits(org, calls, window, concurrency) VALUES (?, ?, ?, ?)",
                         (org, calls, window, concurrency))
            self._count(conn)

    def all(self) -> list[dict[str, Any]]:
        rows = self.store.connection().execute(
            "SELECT org, calls, window, concurrency, used, inflight FROM limits ORDER BY org")
        return [{"org": o, "calls": c, "window_seconds": w, "concurrency": k, "used": u, "in_flight": f}
                for o, c, w, k, u, f in rows]

    def remove(self, org: str | None) -> int:
        with self.store.write() as conn:
            removed = conn.execute("DELETE FROM limits WHERE org = ? OR ? IS NULL", (org, org)).rowcount
            self._count(conn)
            return removed

    def enter(self, org: str, now: float) -> str | None:
        """Take one call of the org's budget; the reason it is refused (`calls`, `concurrency`), or None."""
        with self.store.write() as conn:
            row = conn.execute("SELECT calls, window, concurrency, window_start, used, inflight FROM limits "
                               "WHERE org = ?", (org,)).fetchone()
            if row is None:
                return None
            calls, window, concurrency, start, used, inflight = row
            if window is not None and now - start >= window:
                start, used = now, 0
            if calls is not None and used >= calls:
                return "calls"
            if concurrency is not None and inflight >= concurrency:
                return "concurrency"
            conn.execute("UPDATE limits SET window_start = ?, used = ?, inflight = inflight + 1 WHERE org = ?",
                         (start, used + 1, org))
            return None

    def leave(self, org: str) -> None:
        with self.store.write() as conn:
            conn.execute("UPDATE limits SET inflight = MAX(inflight - 1, 0) WHERE org = ?", (org,))

    @staticmethod
    def _count(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE clock SET limits = (SELECT COUNT(*) FROM limits)")


# -- tokens and the clock ------------------------------------------------------------------------

def mint_tokens(store: Store, org: str, user: str, scopes: Iterable[str], expires_in: int,
                now: float) -> tuple[str, str | None]:
    """An access token (and, if the org's data centre has an OAuth client, a refresh token) for a user."""
    scope_text = ",".join(scopes)
    with store.write() as conn:
        row = conn.execute("SELECT o.dc FROM orgs o JOIN users u ON u.org = o.id WHERE o.id = ? AND u.id = ?",
                           (org, user)).fetchone()
        if row is None:
            raise AdminConflict(f"no user {user} in org {org}")
        client = conn.execute("SELECT id FROM clients WHERE dc = ? ORDER BY org = ? DESC, rowid",
                              (row[0], org)).fetchone()
        refresh = None if client is None else issue_refresh_token(conn, client[0], org, user, scope_text)
        access = issue_access_token(conn, org, user, scope_text, int(now) + expires_in, refresh)
    return access, refresh


def set_clock(store: Store, now: float, frozen: bool, real_now: float) -> None:
    """Stand the clock still at `now`, or let it run on from `now`."""
    with store.write() as conn:
        conn.execute("UPDATE clock SET frozen = ?, offset = ?", (now if frozen else None,
                                                                 0 if frozen else now - real_now))


def advance_clock(store: Store, seconds: float) -> None:
    """Move the clock (frozen or running) by `seconds`."""
    with store.write() as conn:
        conn.execute("UPDATE clock SET frozen = frozen + ?, offset = offset + ?", (seconds, seconds))


def clock_state(store: Store) -> tuple[float, bool]:
    """The server time and whether it stands still."""
    frozen, = store.connection().execute("SELECT frozen FROM clock").fetchone()
    return store.now(), frozen is not None
