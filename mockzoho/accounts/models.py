"""OAuth grants on the shared state: codes, refresh and access tokens, revocation (no HTTP here)."""

from __future__ import annotations

import secrets
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..ids import new_token
from ..store import Store
from ..store.accounts import GrantCode, NoGrant
from ..zoho.scopes import split_scopes
from .clients import Client
from .errors import OAuthError

GRANT_CODE_LIFETIME = 120  # seconds: Zoho grant codes are short-lived


def scope_list(text: str | None) -> list[str]:
    """Scopes as given: comma or space separated; order kept, duplicates dropped."""
    return list(dict.fromkeys(split_scopes(text or "")))


def single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """One parameter; the same name twice with different values is `invalid_request`."""
    values = set(params.get(name, ()))
    if len(values) > 1:
        raise OAuthError("invalid_request")
    return next(iter(values), None) or None


class Accounts:
    """The token endpoint's grants and the revoke endpoint, over the shared store."""

    def __init__(self, store: Store, token_lifetime: int) -> None:
        self.store = store
        self.token_lifetime = token_lifetime

    def client(self, client_id: str | None, data_centre: str) -> Client:
        """A client of this data centre, or `invalid_client`."""
        row = None if client_id is None else self.store.client_row(client_id)
        if row is None or row[2] != data_centre:
            raise OAuthError("invalid_client")
        return Client(*row)

    def authenticated_client(self, params: Mapping[str, Sequence[str]], data_centre: str) -> Client:
        """The client named by `client_id`, once `client_secret` matches."""
        client = self.client(single(params, "client_id"), data_centre)
        secret = single(params, "client_secret")
        if secret is None or not secrets.compare_digest(secret.encode(), client.secret.encode()):
            raise OAuthError("invalid_client_secret")
        return client

    # -- the token endpoint ----------------------------------------------------------------------

    def token(self, params: Mapping[str, Sequence[str]], data_centre: str, api_domain: str,
              now: float) -> dict[str, Any]:
        """Run one grant of `POST /oauth/v2/token` and return the token answer."""
        grant_type = single(params, "grant_type")
        grants = {"authorization_code": self._authorization_code, "refresh_token": self._refresh_token,
                  "client_credentials": self._client_credentials}
        if grant_type not in grants:
            raise OAuthError("unsupported_grant_type")
        client = self.authenticated_client(params, data_centre)
        access, refresh, scopes = grants[grant_type](client, params, int(now))
        answer: dict[str, Any] = {"access_token": access}
        if refresh is not None:
            answer["refresh_token"] = refresh
        answer.update({"scope": " ".join(scopes), "api_domain": api_domain, "token_type": "Bearer",
                       "expires_in": self.token_lifetime})
        return answer

    def _authorization_code(self, client: Client, params: Mapping[str, Sequence[str]],
                            now: int) -> tuple[str, str | None, list[str]]:
        code = single(params, "code")
        given = single(params, "redirect_uri")

        def accept(grant: GrantCode) -> None:  # a refusal leaves the code unspent
            if given is not None and given != grant.redirect_uri:
                raise OAuthError("invalid_redirect_uri")

        if code is None:
            raise OAuthError("invalid_code")
        try:
            access, refresh, scopes = self.store.redeem_code(code, client.id, now, now + self.token_lifetime, accept)
        except NoGrant:
            raise OAuthError("invalid_code") from None
        return access, refresh, scope_list(scopes)

    def _refresh_token(self, client: Client, params: Mapping[str, Sequence[str]],
                       now: int) -> tuple[str, None, list[str]]:
        refresh = single(params, "refresh_token")
        if refresh is None:
            raise OAuthError("invalid_code")
        try:
            access, scopes = self.store.refresh(refresh, client.id, now + self.token_lifetime)
        except NoGrant:
            raise OAuthError("invalid_code") from None
        return access, None, scope_list(scopes)

    def _client_credentials(self, client: Client, params: Mapping[str, Sequence[str]],
                            now: int) -> tuple[str, None, list[str]]:
        scopes = scope_list(single(params, "scope"))
        if not scopes:
            raise OAuthError("invalid_scope")
        soid = single(params, "soid") or ""
        org_id = soid.split(".", 1)[1] if "." in soid else soid  # `ZohoCRM.<org id>` or the bare org id
        if org_id != client.org:  # a client's own org only: one test run's client gets no token for another's
            raise OAuthError("invalid_request")
        try:
            access = self.store.org_token(org_id, ",".join(scopes), now + self.token_lifetime)
        except NoGrant:  # the org (a clone) was removed since its client was looked up
            raise OAuthError("invalid_client") from None
        return access, None, scopes

    # -- authorize and revoke --------------------------------------------------------------------

    def authorize(self, params: Mapping[str, Sequence[str]], data_centre: str, accounts_server: str,
                  now: float) -> str:
        """Consent at once, as the client's demo user, and return where to redirect with the grant code."""
        client = self.client(single(params, "client_id"), data_centre)
        redirect_uri = single(params, "redirect_uri")
        if redirect_uri is None or not client.allows_redirect(redirect_uri):
            raise OAuthError("invalid_redirect_uri", 400)
        reply: dict[str, str] = {}
        scopes = scope_list(single(params, "scope"))
        if single(params, "response_type") != "code":
            reply["error"] = "unsupported_response_type"
        elif not scopes:
            reply["error"] = "invalid_scope"
        else:
            code = new_token()
            offline = (single(params, "access_type") or "online").lower() == "offline"
            self.store.add_grant_code(code, client.id, client.org, client.user, ",".join(scopes), redirect_uri,
                                      offline, int(now) + GRANT_CODE_LIFETIME)
            reply.update({"code": code, "location": data_centre, "accounts-server": accounts_server})
        state = single(params, "state")
        if state is not None:
            reply["state"] = state
        parts = urlsplit(redirect_uri)
        query = "&".join(filter(None, (parts.query, urlencode(reply))))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    def revoke(self, token: str | None) -> None:
        """Revoke a refresh token (and every access token issued from it) or one access token."""
        if token is None or not self.store.revoke(token):
            raise OAuthError("invalid_token", 400)
