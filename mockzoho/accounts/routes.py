"""The accounts server's routes: `POST /oauth/v2/token`, `POST /oauth/v2/token/revoke`, `GET /oauth/v2/auth`."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.urls import iri_to_uri

from ..config import Settings
from ..core.context import app_state, state_view
from ..core.datacentres import data_centre_for_host
from ..core.families import Family
from .errors import OAuthError, accounts_response
from .models import Accounts

MAX_BODY = 64 * 1024  # token requests are a few parameters; a bigger body is refused

blueprint = Blueprint("accounts", __name__)
# Its calls name their org by the refresh token, grant code or token they send, not by a bearer token.
FAMILY = Family(name="accounts", error=OAuthError, blueprint=blueprint, prefixes=("/oauth/",),
                options={"url_prefix": "/oauth/v2"}, credential_params=("refresh_token", "code", "token"),
                max_credential_body=MAX_BODY)


def base_url(settings: Settings) -> str:
    """This server as the client reached it (or as configured): never a real Zoho host. A client that
    reached it under a Zoho host name (a hosts-file entry, say) gets the socket's own address instead."""
    if settings.public_url:
        return settings.public_url
    if data_centre_for_host(request.host, "") == "":
        return request.host_url.rstrip("/")
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        host, port = sock.getsockname()[:2]
        return f"{request.scheme}://{host}:{port}"
    return f"{request.scheme}://localhost"


def accounts() -> Accounts:
    """The accounts server's models in this app."""
    state = app_state()
    return state.shared("accounts", lambda: Accounts(state.store, state.settings.token_lifetime))


def params() -> dict[str, list[str]]:
    """The query's and the form's parameters together, each with every value it was given."""
    request.max_content_length = MAX_BODY
    merged: dict[str, list[str]] = {}
    for source in (request.args, request.form):
        for name, values in source.lists():
            merged.setdefault(name, []).extend(values)
    return merged


def data_centre() -> str:
    """The data centre the Host names, or the default one."""
    return data_centre_for_host(request.host, app_state().settings.default_dc)


@blueprint.post("/token")
def token() -> Response:
    settings = app_state().settings
    return accounts_response(accounts().token(params(), data_centre(), base_url(settings), state_view().now))


@blueprint.post("/token/revoke")
def revoke() -> Response:
    given = params().get("token", [])
    accounts().revoke(given[0] if len(set(given)) == 1 else None)
    return accounts_response({"status": "success"})


@blueprint.get("/auth")
def authorize() -> Response:
    settings = app_state().settings
    target = accounts().authorize(params(), data_centre(), base_url(settings), state_view().now)
    # No HTML "Redirecting..." page; and a Latin-1-safe header, whatever the redirect URI holds.
    return Response(status=302, headers={"Location": iri_to_uri(target)})
