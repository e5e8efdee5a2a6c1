"""The accounts server's SQL: OAuth clients, grant codes, and the tokens the grants issue (the rules are
`accounts.models`')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .core import Core, StoreError
from .zoho import issue_access_token, issue_refresh_token


class NoGrant(StoreError):
    """No such code, refresh token or user to grant from (or it is spent, expired or revoked)."""


@dataclass(frozen=True)
class GrantCode:
    """What a grant code was issued for."""

    org: str
    user: str
    scopes: str
    redirect_uri: str
    offline: bool


class AccountsQueries(Core):
    """What the accounts server reads and writes; each grant is one transaction."""

    def client_row(self, client_id: str) -> tuple[str, str, str, tuple[str, ...], str, str] | None:
        """A client's id, secret, data centre, redirect URI globs, org and user, or None."""
        row = self.connection().execute(
            "SELECT id, secret, dc, redirect_uris, org, user_id FROM clients WHERE id = ?", (client_id,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], tuple(row[3].split("\n")), row[4], row[5])

    def add_grant_code(self, code: str, client: str, org: str, user: str, scopes: str, redirect_uri: str,
                       offline: bool, expires_at: int) -> None:
        with self.write() as conn:
            conn.execute("INSERT INTO grant_codes(code, client, org, user_id, scopes, redirect_uri, offline, "
                         "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (code, client, org, user, scopes, redirect_uri, int(offline), expires_at))

    def redeem_code(self, code: str, client: str, now: int, expires_at: int,
                    accept: Callable[[GrantCode], None]) -> tuple[str, str | None, str]:
        """Spend a live grant code of `client` for an access token (and, offline, a refresh token): the tokens
        and the code's scopes. `accept` may refuse the code by raising, which leaves it unspent; NoGrant if
        there is no such code."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE grant_codes SET used = 1 WHERE code = ? AND client = ? AND used = 0 AND expires_at > ? "
                "RETURNING org, user_id, scopes, redirect_uri, offline", (code, client, now)).fetchone()
            if row is None:
                raise NoGrant(code)
            grant = GrantCode(row[0], row[1], row[2], row[3], bool(row[4]))
            accept(grant)
            refresh = issue_refresh_token(conn, client, grant.org, grant.user, grant.scopes) if grant.offline else None
            access = issue_access_token(conn, grant.org, grant.user, grant.scopes, expires_at, refresh)
            return access, refresh, grant.scopes

    def refresh(self, refresh: str, client: str, expires_at: int) -> tuple[str, str]:
        """A new access token from a live refresh token of `client`, and its scopes; NoGrant if there is none."""
        with self.write() as conn:
            row = conn.execute(
                "SELECT org, user_id, scopes FROM refresh_tokens WHERE token = ? AND client = ? AND revoked = 0",
                (refresh, client)).fetchone()
            if row is None:
                raise NoGrant(refresh)
            org, user, scopes = row
            return issue_access_token(conn, org, user, scopes, expires_at, refresh), scopes

    def org_token(self, org: str, scopes: str, expires_at: int) -> str:
        """An access token of the org's first user (the client credentials grant); NoGrant if it has none."""
        with self.write() as conn:
            first = conn.execute("SELECT id FROM users WHERE org = ? ORDER BY rowid LIMIT 1", (org,)).fetchone()
            if first is None:
                raise NoGrant(org)
            return issue_access_token(conn, org, first[0], scopes, expires_at, None)

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and every access token issued from it) or one access token; False if it is
        neither."""
        with self.write() as conn:
            if conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE token = ?", (token,)).rowcount:
                conn.execute("UPDATE tokens SET revoked = 1 WHERE refresh_token = ?", (token,))
                return True
            return bool(conn.execute("UPDATE tokens SET revoked = 1 WHERE token = ?", (token,)).rowcount)
