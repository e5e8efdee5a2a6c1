"""A state file brought in line with its fixtures: seeded from them once, then trusted while the files are
unchanged. Apart from the app (and Flask), so that `mockzoho serve` can seed in a child process while the
server imports."""

from __future__ import annotations

from .bigin import BIGIN
from .config import Settings, instant
from .crm import CRM
from .fixtures import fixture_digest
from .store import STATE_PROBLEMS, Store, state_problem

ZOHO_PRODUCTS = (CRM, BIGIN)


def open_state(settings: Settings) -> Store:
    """The store at `settings.state`, seeded from `settings.fixtures` unless it was already, and swept (raises
    FixtureError for bad fixtures, StateError for a state file of another version)."""
    store = Store(settings.state)
    seeded = store.seeded_digest()
    if seeded is not None:  # kept as it is, whatever the files say now: they are not even parsed
        store.keep_seeded(seeded, fixture_digest(settings.fixtures))
    else:
        # marshmallow compiles its validators and PyYAML its scanner on import: only load them to parse.
        from .fixtures import load_fixtures
        store.seed(load_fixtures(settings.fixtures, ZOHO_PRODUCTS), settings.id_seed,
                   instant(settings.clock) if settings.clock else None)
    store.sweep()  # what a killed worker left; safe even where every gunicorn worker opens the state itself
    store.journal.open(settings.journal_cap)  # its file is part of the state: a broken one is said here, once
    return store


def seeding_problem(settings: Settings) -> str | None:
    """Seed the state (or find it seeded) and close it; what is wrong with the fixtures or the state file
    (every problem, a line each), or None."""
    from .fixtures import FixtureError

    try:
        open_state(settings).close()
    except FixtureError as exc:
        return "\n".join(exc.problems)
    except STATE_PROBLEMS as exc:
        return state_problem(settings.state, exc)
    return None
