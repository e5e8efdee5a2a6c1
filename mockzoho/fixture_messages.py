"""Fixture messages a new user can act on: an unknown name with the closest known one and the list of all,
and a duplicate with the place its first definition stands."""

from __future__ import annotations

import difflib
from typing import Any, Collection, Hashable

from marshmallow import Schema, ValidationError


def did_you_mean(name: str, known: Collection[str]) -> str:
    """`did you mean 'x'?` for the known name spelt most like `name` (in any case), or '' if none is close."""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), by_lower, n=1)
    return f"did you mean {by_lower[close[0]]!r}?" if close else ""


def unknown(kind: str, name: str, known: Collection[str], hint: str | None = None, listed: bool = True) -> str:
    """`unknown <kind> 'name': <hint> (<kind>s: a, b)`; the hint is the closest spelling unless one is given."""
    hint = did_you_mean(name, known) if hint is None else hint
    listing = f" ({kind}s: {', '.join(sorted(known, key=str.lower))})" if listed else ""
    return f"unknown {kind} {name!r}{': ' + hint if hint else ''}{listing}"


def shown_token(token: str) -> str:
    """A token as messages show it: whole, or its two ends if it is long (fixture tokens are no secret, but
    may have 512 characters)."""
    return token if len(token) <= 40 else f"{token[:20]}...{token[-12:]}"


class Known:
    """A validator for a closed set of names that says which one was probably meant (marshmallow's OneOf
    lists them only)."""

    def __init__(self, kind: str, known: Collection[str]) -> None:
        self.kind, self.known = kind, known

    def __call__(self, value: str) -> None:
        """Refuse a name not in the set."""
        if value not in self.known:
            raise ValidationError(unknown(self.kind, value, self.known))


class FixtureSchema(Schema):
    """A schema whose unknown keys are reported with the closest field name and every field it has."""

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        """Rewrite marshmallow's bare "Unknown field." before the error is raised."""
        names = [f.data_key or name for name, f in self.load_fields.items()]
        for key, messages in error.messages.items():
            if messages == [self.error_messages["unknown"]]:
                error.messages[key] = [unknown("field", str(key), names)]


class FirstDefined:
    """Where each id was first defined, so that a duplicate's message can point there (in another file too)."""

    def __init__(self) -> None:
        self._places: dict[Hashable, str] = {}

    def duplicate(self, key: Hashable | None, place: str, what: str) -> str | None:
        """None if `key` is new (remembering `place`, "file: path") or missing; else the duplicate's message."""
        if key in self._places:
            return f"duplicate {what} (first defined at {self._places[key]})"
        if key is not None:  # a missing id is reported as missing, not as a duplicate of another missing one
            self._places[key] = place
        return None
