"""Who is calling: the `Zoho-oauthtoken` header, the token's validity and data centre, and its user."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from werkzeug.datastructures import Authorization

from ..store import Store, TokenRow
from .actions import Action
from .errors import ZohoError
from .scopes import ScopeSet

SCHEME = "zoho-oauthtoken"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user of one org, holding a token with some scopes."""

    org: str
    user: str
    time_zone: str
    scopes: ScopeSet
    permissions: frozenset[str] | None  # None: every permission
    restricted: bool                    # may act only on records granted to the user

    def may(self, action: Action) -> bool:
        """True if the user's profile grants the action's permission."""
        return self.permissions is None or action.permission in self.permissions


def authenticate(authorization: Authorization | None, data_centre: str, store: Store, now: float,
                 credentials: int) -> Principal:
    """The caller behind an Authorization header, or AUTHENTICATION_FAILURE / INVALID_TOKEN
    (`now` and `credentials` from the request's state view)."""
    if authorization is None or authorization.type != SCHEME or not authorization.token:
        raise ZohoError("AUTHENTICATION_FAILURE")
    row = store.find_token(authorization.token, credentials)
    if (row is None or row.revoked or row.dc != data_centre
            or (row.expires_at is not None and row.expires_at <= now)):
        raise ZohoError("INVALID_TOKEN")
    return principal_of(row)


@lru_cache(maxsize=1024)
def principal_of(row: TokenRow) -> Principal:
    """The caller a token row describes (the same row gives the same, immutable, principal)."""
    permissions = None if row.permissions is None else frozenset(filter(None, row.permissions.split(",")))
    return Principal(org=row.org, user=row.user, time_zone=row.time_zone, scopes=ScopeSet.parse(row.scopes),
                     permissions=permissions, restricted=bool(row.restricted))
