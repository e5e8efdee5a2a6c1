"""The app's shared state, and what one request learns on its way through hooks and route: typed, not loose on `g`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from flask import current_app, g, request

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store
    from ..store.core import StateView
    from .families import Families, Family

T = TypeVar("T")


@dataclass
class AppState:
    """What every route of one app shares: its settings, its store and its families."""

    settings: Settings
    store: Store
    families: Families
    started: float = field(default_factory=time.monotonic)
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """One object per app under `key` (a family's models), made on first use."""
        found = self._shared.get(key)
        if found is None:
            found = self._shared.setdefault(key, make())  # two threads may both make one: the first is kept
        return found


@dataclass
class Call:
    """One request as the journal, the faults and the routes see it (made on first use, by `call()`)."""

    state: AppState  # the app's, kept here so the hot path resolves Flask's proxies once
    path: str
    started: float | None = None  # when it came in (perf_counter); None for the control API, never journaled
    org: str | None = None
    org_known: bool = False  # `org` was settled (None included) by authentication or a fault
    in_flight: str | None = None  # the org whose concurrency slot this call holds
    api_code: str | None = None  # the code its answer carries
    recorded: bool = False  # journaled already (a dropped connection is journaled before it has an answer)
    matched: str | None = None  # what answered, when not a route: `stub 3`, `fault 2`, `proxy URL`, `limit`
    trusted: bool = False  # a control-API call that may use all of it
    _view: StateView | None = field(default=None, repr=False)
    _owner: Family | None = field(default=None, repr=False)
    _owner_known: bool = field(default=False, repr=False)

    def settle_org(self, org: str | None) -> None:
        """The org this call acts for, as authentication found it."""
        self.org, self.org_known = org, True

    def view(self) -> StateView:
        """What this request sees of the state: read on first use, then kept (`forget_view` drops it)."""
        if self._view is None:
            self._view = self.state.store.view()
        return self._view

    def forget_view(self) -> None:
        """Read the state anew on next use: the request goes on as if it came in now (after a fault's delay)."""
        self._view = None

    def owner(self) -> Family | None:
        """The family that owns this request's path, or None: looked up once."""
        if not self._owner_known:
            self._owner, self._owner_known = self.state.families.owner(self.path), True
        return self._owner

    def family(self) -> Family:
        """Whose envelope this request's answers take: its path's owner, else the default family."""
        return self.owner() or self.state.families.default


def app_state() -> AppState:
    """The state of the app serving this request."""
    return current_app.extensions["mockzoho"]


def call() -> Call:
    """This request's `Call`."""
    found = g.get("call")
    if found is None:
        found = g.call = Call(current_app.extensions["mockzoho"], request.path)
    return found


def state_view() -> StateView:
    """What this request sees of the state (`Call.view`)."""
    return call().view()


def family() -> Family:
    """The family whose path this request is on (`Call.family`)."""
    return call().family()
