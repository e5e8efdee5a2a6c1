"""The control state's SQL: faults, stubs, rate limits, minted tokens and the clock (the rules are `admin.models`')."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .core import Connection, StoreError
from .seeding import FixtureWriter
from .zoho import issue_access_token, issue_refresh_token

if TYPE_CHECKING:
    from ..fixtures import Fixtures


# `CAST(?1 AS TEXT) IS NULL`, not `?1 IS NULL`: PostgreSQL must know a parameter's type, which a NULL alone does
# not tell it.


def _recount(conn: Connection, table: str) -> None:
    """Keep the counter every request reads first (no rules: no lookup) equal to the table's rows."""
    conn.execute(f"UPDATE counters SET {table} = (SELECT COUNT(*) FROM {table})")


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


class ControlQueries(FixtureWriter):
    """What the control API and the request hooks read and write."""

    # -- faults and stubs: rules that match calls -------------------------------------------------------

    def add_fault(self, spec: dict[str, Any], org: str | None, times: int | None) -> int:
        return self._add_rule("faults", {"spec": json.dumps(spec), "org": org, "remaining": times})

    def add_stub(self, spec: dict[str, Any], org: str | None, times: int | None, source: str) -> int:
        """A stub (`spec` without its org, which is a column); `source` is api or recorded."""
        return self._add_rule("stubs", {"spec": json.dumps(spec, allow_nan=False), "org": org, "remaining": times,
                                        "source": source})

    def faults(self, org: str | None = None) -> list[tuple[int, dict[str, Any], int | None, int]]:
        """Every fault (of one org), oldest first: id, spec, calls left to fail, calls seen."""
        return [(i, json.loads(spec), remaining, hits)
                for i, spec, remaining, hits in self._rules("faults", "id, spec, remaining, hits", org)]

    def stubs(self, org: str | None = None) -> list[tuple[int, str, str | None, int | None, int, str]]:
        """Every stub (of one org), oldest first: id, spec (JSON text: the models decode each once), org, calls
        left to answer, calls answered, source."""
        return self._rules("stubs", "id, spec, org, remaining, hits, source", org)

    def replace_recorded_stub(self, spec: dict[str, Any], org: str | None) -> int:
        """A recording, in place of the earlier recordings of the same match and org, in one transaction (the
        matches compared decoded: key order and escapes do not make two calls of one)."""
        with self.write() as conn:
            rows = conn.execute("SELECT id, spec FROM stubs WHERE source = 'recorded' AND "
                                "(org = ?1 OR (org IS NULL AND CAST(?1 AS TEXT) IS NULL))", (org,))
            earlier = [i for i, text in rows if json.loads(text).get("match") == spec.get("match")]
            conn.executemany("DELETE FROM stubs WHERE id = ?", [(i,) for i in earlier])
            [(stub_id,)] = conn.execute("INSERT INTO stubs(spec, org, remaining, source) VALUES (?, ?, NULL, "
                                        "'recorded') RETURNING id", (json.dumps(spec, allow_nan=False), org)).fetchall()
            _recount(conn, "stubs")
            return stub_id

    def remove_faults(self, fault_id: int | None, org: str | None = None) -> int:
        """Remove one fault, an org's, or (neither given) all; how many went."""
        return self._remove_rules("faults", fault_id, org)

    def remove_stubs(self, stub_id: int | None, org: str | None = None) -> int:
        """Remove one stub, an org's, or (neither given) all, recorded ones included; how many went."""
        return self._remove_rules("stubs", stub_id, org)

    def count_fault_hit(self, fault_id: int, counted: bool) -> int | None:
        return self._count_hit("faults", fault_id, counted)

    def count_stub_hit(self, stub_id: int, counted: bool) -> int | None:
        return self._count_hit("stubs", stub_id, counted)

    def _add_rule(self, table: str, row: dict[str, Any]) -> int:
        with self.write() as conn:
            [(rule_id,)] = conn.execute(f"INSERT INTO {table}({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                                        "RETURNING id", list(row.values())).fetchall()
            _recount(conn, table)
            return rule_id

    def _rules(self, table: str, columns: str, org: str | None) -> list[tuple[Any, ...]]:
        return self.connection().execute(
            f"SELECT {columns} FROM {table} WHERE CAST(?1 AS TEXT) IS NULL OR org = ?1 ORDER BY id", (org,)).fetchall()

    def _remove_rules(self, table: str, rule_id: int | None, org: str | None) -> int:
        with self.write() as conn:
            if rule_id is not None:
                removed = conn.execute(f"DELETE FROM {table} WHERE id = ?", (rule_id,)).rowcount
            else:
                removed = conn.execute(f"DELETE FROM {table} WHERE CAST(?1 AS TEXT) IS NULL OR org = ?1",
                                       (org,)).rowcount
            _recount(conn, table)
            return removed

    def _count_hit(self, table: str, rule_id: int, counted: bool) -> int | None:
        """Count a matching call: the hits so far, this one included, or None if the rule is gone or (when it
        answers a `counted` number of calls) has none left."""
        with self.write() as conn:
            if counted:
                row = conn.execute(f"UPDATE {table} SET remaining = remaining - 1, hits = hits + 1 "
                                   "WHERE id = ? AND remaining > 0 RETURNING hits", (rule_id,)).fetchone()
            else:
                row = conn.execute(f"UPDATE {table} SET hits = hits + 1 WHERE id = ? RETURNING hits",
                                   (rule_id,)).fetchone()
        return None if row is None else row[0]

    def _write_fixtures(self, conn: Connection, fixtures: Fixtures) -> None:
        super()._write_fixtures(conn, fixtures)
        conn.executemany("INSERT INTO fixture_stubs(position, spec, org) VALUES (?, ?, ?)",
                         [(i, json.dumps({k: v for k, v in stub.items() if k != "org"}), stub["org"])
                          for i, stub in enumerate(fixtures.stubs)])

    def _restored(self, conn: Connection, org: str | None) -> None:
        super()._restored(conn, org)
        self._restore_stubs(conn, org)

    @staticmethod
    def _restore_stubs(conn: Connection, org: str | None) -> None:
        """The fixtures' stubs set again (of every org, or of one: a clone gets its template's), the other stubs
        gone; recorded stubs stay, as they are a capture of a real API rather than a test's setting."""
        if org is None:
            conn.execute("DELETE FROM stubs WHERE source != 'recorded'")
            rows = conn.execute("SELECT spec, org FROM fixture_stubs ORDER BY position").fetchall()
        else:
            conn.execute("DELETE FROM stubs WHERE org = ? AND source != 'recorded'", (org,))
            rows = [(spec, org) for (spec,) in conn.execute(
                "SELECT spec FROM fixture_stubs WHERE org = (SELECT COALESCE(template, id) FROM fixture_orgs "
                "WHERE id = ?) ORDER BY position", (org,))]
        conn.executemany("INSERT INTO stubs(spec, org, remaining, source) VALUES (?, ?, ?, 'fixtures')",
                         [(spec, owner, json.loads(spec).get("times")) for spec, owner in rows])
        _recount(conn, "stubs")

    # -- rate limits -------------------------------------------------------------------------------

    def set_limit(self, org: str, calls: int | None, window: float | None, concurrency: int | None) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO limits(org, calls, span, concurrency) VALUES (?, ?, ?, ?) ON CONFLICT(org) "
                         "DO UPDATE SET calls = excluded.calls, span = excluded.span, concurrency = "
                         "excluded.concurrency, window_start = 0, used = 0, inflight = 0",
                         (org, calls, window, concurrency))
            _recount(conn, "limits")

    def limits(self) -> list[tuple[str, LimitRow]]:
        rows = self.connection().execute(
            "SELECT org, calls, span, concurrency, window_start, used, inflight FROM limits ORDER BY org")
        return [(org, LimitRow(*rest)) for org, *rest in rows]

    def remove_limits(self, org: str | None) -> int:
        with self.write() as conn:
            removed = conn.execute("DELETE FROM limits WHERE org = ?1 OR CAST(?1 AS TEXT) IS NULL", (org,)).rowcount
            _recount(conn, "limits")
            return removed

    def enter_limit(self, org: str, decide: LimitDecision) -> str | None:
        """Let `decide` judge a call against the org's limits in one transaction, and count it in if allowed;
        the reason it is refused, or None (also when the org has no limits)."""
        with self.write() as conn:
            row = conn.execute("SELECT calls, span, concurrency, window_start, used, inflight FROM limits "
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
            conn.execute("UPDATE limits SET inflight = inflight - 1 WHERE org = ? AND inflight > 0", (org,))

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

    def instance_mark(self) -> str:
        """A random mark of this state, made once and the same in every worker and host that shares it (a proxy's
        loop guard: two states at the same path on two machines still differ)."""
        return self._random_meta("instance", 6)

    def instance_secret(self, purpose: str) -> str:
        """A random secret of this state for one purpose (the dashboard's CSRF signatures), shared by its workers
        and never sent anywhere."""
        return self._random_meta(f"secret:{purpose}", 32)

    def _random_meta(self, key: str, size: int) -> str:
        with self.write() as conn:  # the first to write it wins: every worker and host reads that one
            conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                         (key, secrets.token_hex(size)))
            return conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def set_clock(self, frozen: float | None, offset: float) -> None:
        """Stand the clock still at `frozen`, or (None) let it run `offset` seconds from the real time."""
        with self.write() as conn:
            conn.execute("UPDATE counters SET frozen = ?, shift = ?", (frozen, offset))

    def advance_clock(self, seconds: float) -> None:
        """Move the clock (frozen or running) by `seconds`."""
        with self.write() as conn:
            conn.execute("UPDATE counters SET frozen = frozen + ?1, shift = shift + ?1", (seconds,))

    def clock_frozen(self) -> bool:
        """Whether the clock stands still."""
        return self.connection().execute("SELECT frozen FROM counters").fetchone()[0] is not None
