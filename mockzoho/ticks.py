"""The per-request view of the store's clock row, read once and shared by the hooks and the routes."""

from __future__ import annotations

from flask import g

from .store import Store
from .store.core import Tick


def request_tick(store: Store) -> Tick:
    """This request's tick: read on first use, then kept for the rest of the request."""
    tick = g.get("tick")
    if tick is None:
        tick = g.tick = store.tick()
    return tick
