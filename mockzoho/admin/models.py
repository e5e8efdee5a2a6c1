"""The control API's rules: faults, rate limits, minted tokens and the clock (stubs' are in `admin.stubs`; no HTTP,
no SQL: the state is `store.control`'s, the journal `store.journal`'s)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterable

from ..store import Store
from ..store.control import LimitRow

# The server clock's range (Zoho dates stay four-digit years; 1971 keeps epochs positive).
EARLIEST, LATEST = datetime(1971, 1, 1, tzinfo=timezone.utc), datetime(9000, 1, 1, tzinfo=timezone.utc)


# -- faults --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A fault as set: what it matches, what it does, and how often."""

    id: int
    spec: dict[str, Any]
    remaining: int | None

    def matches(self, product: str | None, has_code: Callable[[str], bool], method: str, path: str,
                org: str | None, token: str | None) -> bool:
        """Whether this fault applies to a call of `product` (whose error codes `has_code` knows)."""
        match = self.spec.get("match", {})
        code = self.spec.get("respond", {}).get("code")
        if code is not None and not has_code(code):
            return False  # a Zoho code never answers a Cosmos DB call, nor the other way round
        return ((match.get("product") is None or match["product"] == product)
                and (match.get("method") is None or match["method"].upper() == method)
                and (match.get("path") is None or fnmatchcase(path, match["path"]))
                and (match.get("org") is None or match["org"] == org)
                and (match.get("token") is None or match["token"] == token))


class Faults:
    """Faults in the vendor's own terms, shared by all workers; each firing is counted exactly once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, spec: dict[str, Any]) -> int:
        return self.store.add_fault(spec, spec.get("match", {}).get("org"), spec.get("times"))

    def all(self, org: str | None = None) -> list[dict[str, Any]]:
        return [{"id": i, **spec, "remaining": remaining, "hits": hits}
                for i, spec, remaining, hits in self.store.faults(org)]

    def remove(self, fault_id: int | None, org: str | None = None) -> int:
        return self.store.remove_faults(fault_id, org)

    def fire(self, product: str | None, has_code: Callable[[str], bool], method: str, path: str, org: str | None,
             token: str | None) -> Fault | None:
        """The first fault that matches and fires on this call (consuming one of its `times`)."""
        for fault in (Fault(i, spec, remaining) for i, spec, remaining, _ in self.store.faults()):
            if fault.matches(product, has_code, method, path, org, token) and self._fires(fault):
                return fault
        return None

    def _fires(self, fault: Fault) -> bool:
        """Count the call; a fault with `times` fires while some are left, one with a probability by its seed."""
        hits = self.store.count_fault_hit(fault.id, counted=fault.remaining is not None)
        if hits is None or fault.remaining is not None:
            return hits is not None  # none left, or removed meanwhile; or one of its `times`
        probability = fault.spec.get("probability")
        return probability is None or random.Random(f"{fault.spec.get('seed', 0)}:{hits}").random() < probability


# -- rate limits ---------------------------------------------------------------------------------

class Limits:
    """Per-org budgets of calls per window and of calls in flight, shared by all workers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, org: str, calls: int | None, window: float | None, concurrency: int | None) -> None:
        self.store.set_limit(org, calls, window, concurrency)

    def all(self) -> list[dict[str, Any]]:
        return [{"org": org, "calls": row.calls, "window_seconds": row.window, "concurrency": row.concurrency,
                 "used": row.used, "in_flight": row.in_flight} for org, row in self.store.limits()]

    def remove(self, org: str | None) -> int:
        return self.store.remove_limits(org)

    def enter(self, org: str, now: float) -> str | None:
        """Take one call of the org's budget; the reason it is refused (`calls`, `concurrency`), or None."""
        def decide(row: LimitRow) -> tuple[str | None, float, int]:
            start, used = row.window_start, row.used
            if row.window is not None and now - start >= row.window:
                start, used = now, 0  # a new window
            if row.calls is not None and used >= row.calls:
                return "calls", start, used
            if row.concurrency is not None and row.in_flight >= row.concurrency:
                return "concurrency", start, used
            return None, start, used + 1
        return self.store.enter_limit(org, decide)

    def leave(self, org: str) -> None:
        self.store.leave_limit(org)


# -- tokens and the clock ------------------------------------------------------------------------

def mint_tokens(store: Store, org: str, user: str, scopes: Iterable[str], expires_in: int,
                now: float) -> tuple[str, str | None]:
    """An access token (and, if the org's data centre has an OAuth client, a refresh token) for a user;
    UnknownUser if the org has no such user."""
    return store.mint_tokens(org, user, ",".join(scopes), int(now) + expires_in)


def set_clock(store: Store, now: float, frozen: bool, real_now: float) -> None:
    """Stand the clock still at `now`, or let it run on from `now`."""
    store.set_clock(now if frozen else None, 0 if frozen else now - real_now)
