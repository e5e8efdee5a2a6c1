"""The control state's SQL: faults, rate limits, minted tokens and the clock (the rules are `admin.models`')."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from .core import Core, StoreError
from .zoho import issue_access_token, issue_refresh_token


class UnknownUser(StoreError):
    """No such user in that org."""


@dataclass(frozen=True)
class LimitRow:
    """An org's rate limits and what it has used of them."""

    calls: int | None
    window: float | None
    concurrency: int | None
    window_start: float
    used: int
    in_flight: int


# What a limit check decides from an org's row: the reason it refuses the call, or None and the window's start
# and the calls used in it once this one is counted.
LimitDecision = Callable[[LimitRow], tuple[str | None, float, int]]


class ControlQueries(Core):
    """What the control API and the request hooks read and write."""

    # -- faults ------------------------------------------------------------------------------------

    def add_fault(self, spec: dict[str, Any], org: str | None, times: int | None) -> int:
        with self.write() as conn:
            cursor = conn.execute("INSERT INTO faults(spec, org, remaining) VALUES (?, ?, ?)",
                                  (json.dumps(spec), org, times))
            conn.execute("UPDATE counters SET faults = (SELECT COUNT(*) FROM faults)")
            return cursor.lastrowid

    def faults(self, org: str | None = None) -> list[tuple[int, dict[str, Any], int | None, int]]:
        """Every fault (of one org), oldest first: id, spec, calls left to fail, calls seen."""
        rows = self.connection().execute(
            "SELECT id, spec, remaining, hits FROM faults WHERE ?1 IS NULL OR org = ?1 ORDER BY id", (org,))
        return [(i, json.loads(spec), remaining, hits) for i, spec, remaining, hits in rows]

    def remove_faults(self, fault_id: int | None, org: str | None = None) -> int:
        """Remove one fault, an org's, or (neither given) all; how many went."""
        with self.write() as conn:
            if fault_id is not None:
                removed = conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,)).rowcount
            elif org is not None:
                removed = conn.execute("DELETE FROM faults WHERE org = ?", (org,)).rowcount
            else:
                removed = conn.execute("DELETE FROM faults").rowcount
            conn.execute("UPDATE counters SET faults = (SELECT COUNT(*) FROM faults)")
            return removed

    def count_fault_hit(self, fault_id: int, counted: bool) -> int | None:
        """Count a matching call: the hits so far, this one included, or None if the fault is gone or (when it
        fails a `counted` number of calls) has none left."""
        with self.write() as conn:
            if counted:
                row = conn.execute("UPDATE faults SET remaining = remaining - 1, hits = hits + 1 "
                                   "WHERE id = ? AND remaining > 0 RETURNING hits", (fault_id,)).fetchone()
            else:
                row = conn.execute("UPDATE faults SET hits = hits + 1 WHERE id = ? RETURNING hits",
                                   (fault_id,)).fetchone()
        return None if row is None else row[0]

    # -- rate limits -------------------------------------------------------------------------------

    def set_limit(self, org: str, calls: int | None, window: float | None, concurrency: int | None) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO limits(org, calls, window, concurrency) VALUES (?, ?, ?, ?)",
                         (org, calls, window, concurrency))
            conn.execute("UPDATE counters SET limits = (SELECT COUNT(*) FROM limits)")

    def limits(self) -> list[tuple[str, LimitRow]]:
        rows = self.connection().execute(
            "SELECT org, calls, window, concurrency, window_start, used, inflight FROM limits ORDER BY org")
        return [(org, LimitRow(*rest)) for org, *rest in rows]

    def remove_limits(self, org: str | None) -> int:
        with self.write() as conn:
            removed = conn.execute("DELETE FROM limits WHERE org = ? OR ? IS NULL", (org, org)).rowcount
            conn.execute("UPDATE counters SET limits = (SELECT COUNT(*) FROM limits)")
            return removed

    def enter_limit(self, org: str, decide: LimitDecision) -> str | None:
        """Let `decide` judge a call against the org's limits in one transaction, and count it in if allowed;
        the reason it is refused, or None (also when the org has no limits)."""
        with self.write() as conn:
            row = conn.execute("SELECT calls, window, concurrency, window_start, used, inflight FROM limits "
                               "WHERE org = ?", (org,)).fetchone()
            if row is None:
                return None
            refused, start, used = decide(LimitRow(*row))
            if refused is None:
                conn.execute("UPDATE limits SET window_start = ?, used = ?, inflight = inflight + 1 "
                             "WHERE org = ?", (start, used, org))
            return refused

    def leave_limit(self, org: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE limits SET inflight = MAX(inflight - 1, 0) WHERE org = ?", (org,))

    # -- minted tokens and the clock ---------------------------------------------------------------

    def mint_tokens(self, org: str, user: str, scopes: str, expires_at: int) -> tuple[str, str | None]:
        """An access token (and, if the org's data centre has an OAuth client, a refresh token) for a user;
        UnknownUser if the org has no such user."""
        with self.write() as conn:
            row = conn.execute("SELECT o.dc FROM orgs o JOIN users u ON u.org = o.id WHERE o.id = ? AND u.id = ?",
                               (org, user)).fetchone()
            if row is None:
                raise UnknownUser(f"no user {user} in org {org}")
            client = conn.execute("SELECT id FROM clients WHERE dc = ? ORDER BY org = ? DESC, rowid",
                                  (row[0], org)).fetchone()
            refresh = None if client is None else issue_refresh_token(conn, client[0], org, user, scopes)
            return issue_access_token(conn, org, user, scopes, expires_at, refresh), refresh

    def set_clock(self, frozen: float | None, offset: float) -> None:
        """Stand the clock still at `frozen`, or (None) let it run `offset` seconds from the real time."""
        with self.write() as conn:
            conn.execute("UPDATE counters SET frozen = ?, offset = ?", (frozen, offset))

    def advance_clock(self, seconds: float) -> None:
        """Move the clock (frozen or running) by `seconds`."""
        with self.write() as conn:
            conn.execute("UPDATE counters SET frozen = frozen + ?, offset = offset + ?", (seconds, seconds))

    def clock_frozen(self) -> bool:
        """Whether the clock stands still."""
        return self.connection().execute("SELECT frozen FROM counters").fetchone()[0] is not None
