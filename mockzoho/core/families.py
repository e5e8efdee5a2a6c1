"""The family registry: each API the server speaks, where its URLs are, and whose envelope an error takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from flask import Blueprint

from .errors import ApiError


@dataclass(frozen=True)
class Family:
    """One API: its name (in the journal and in faults), its error class, its blueprint and its paths."""

    name: str
    error: type[ApiError]
    blueprint: Blueprint
    prefixes: tuple[str, ...] = ()  # the paths it owns start with one of these...
    paths: tuple[str, ...] = ()  # ...or are one of these
    options: Mapping[str, Any] = field(default_factory=dict)  # for `register_blueprint` (url_prefix, url_defaults)
    journaled: bool = True  # its calls are journaled and can be faulted (the control API's are not)
    leading_slashes: bool = False  # `//path` is served as `/path` (Cosmos DB clients send it; Zoho refuses it)
    # Parameters that carry a credential when there is no bearer token (the accounts server's), and the
    # largest body read to find them.
    credential_params: tuple[str, ...] = ()
    max_credential_body: int = 0
    # Checks the request's credentials as the family's routes do (raising its error) and gives the caller's
    # org: what a stub with `auth` asks of a call. None: the family has no credentials to check.
    authenticate: Callable[[], str | None] | None = None
    # For a family whose catch-all route takes more URLs than it serves: whether this routed call's URL is one it
    # models (one it does not is unmatched, as an unrouted one is). None: every routed URL is modelled.
    models_url: Callable[[], bool] | None = None

    def owns(self, path: str) -> bool:
        """Whether `path` is one of this family's."""
        return path in self.paths or path.startswith(self.prefixes)


class Families:
    """The registered families, in the order their blueprints are registered; the first is the default."""

    def __init__(self, families: Iterable[Family]) -> None:
        self._families = tuple(families)
        self._by_name = {f.name: f for f in self._families}

    def __iter__(self) -> Iterator[Family]:
        return iter(self._families)

    def named(self, name: str) -> Family:
        """The family of this name."""
        return self._by_name[name]

    def owner(self, path: str) -> Family | None:
        """The family that owns `path`, or None."""
        return next((f for f in self._families if f.owns(path)), None)

    @property
    def default(self) -> Family:
        """Whose envelope an answer at a path no family owns takes: the first's (Zoho CRM's)."""
        return self._families[0]

    @property
    def journaled(self) -> tuple[str, ...]:
        """The names of the families whose calls are journaled and can be faulted."""
        return tuple(f.name for f in self._families if f.journaled)
