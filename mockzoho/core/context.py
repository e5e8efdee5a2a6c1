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
    """One request as the journal, the faults and the routes see it."""

    started: float | None = None  # when it came in (perf_counter); None for the control API, never journaled
    view: StateView | None = None  # the state's counters row, read once per request
    org: str | None = None
    org_known: bool = False  # `org` was settled (None included) by authentication or a fault
    in_flight: str | None = None  # the org whose concurrency slot this call holds
    api_code: str | None = None  # the code its answer carries
    recorded: bool = False  # journaled already (a dropped connection is journaled before it has an answer)
    trusted: bool = False  # a control-API call that may use all of it
    _family: Family | None = field(default=None, repr=False)

    def settle_org(self, org: str | None) -> None:
        """The org this call acts for, as authentication found it."""
        self.org, self.org_known = org, True


def app_state() -> AppState:
    """The state of the app serving this request."""
    return current_app.extensions["mockzoho"]


def call() -> Call:
    """This request's `Call`, made on first use."""
    found = g.get("call")
    if found is None:
        found = g.call = Call()
    return found


def state_view() -> StateView:
    """What this request sees of the state: read on first use, then kept (a fault's delay forgets it)."""
    current = call()
    if current.view is None:
        current.view = app_state().store.view()
    return current.view


def family() -> Family:
    """The family whose path this request is on (the default one's for a path no family owns)."""
    current = call()
    if current._family is None:
        current._family = app_state().families.for_path(request.path)
    return current._family
