"""The accounts server's routes: `POST /oauth/v2/token`, `POST /oauth/v2/token/revoke`, `GET /oauth/v2/auth`."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.urls import iri_to_uri

from ..config import Settings
from ..store import Store
from ..ticks import request_tick
from ..zoho.datacentres import data_centre_for_host
from ..zoho.errors import json_response
from .errors import CONTENT_TYPE
from .models import Accounts

MAX_BODY = 64 * 1024  # token requests are a few parameters; a bigger body is refused


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


def make_accounts_blueprint(store: Store, settings: Settings) -> Blueprint:
    """The /oauth blueprint."""
    accounts = Accounts(store, settings.token_lifetime)
    bp = Blueprint("accounts", __name__, url_prefix="/oauth/v2")

    def params() -> dict[str, list[str]]:
        request.max_content_length = MAX_BODY
        merged: dict[str, list[str]] = {}
        for source in (request.args, request.form):
            for name, values in source.lists():
                merged.setdefault(name, []).extend(values)
        return merged

    def data_centre() -> str:
        return data_centre_for_host(request.host, settings.default_dc)

    @bp.post("/token")
    def token() -> Response:
        answer = accounts.token(params(), data_centre(), base_url(settings), request_tick(store).now)
        return json_response(answer, 200, CONTENT_TYPE)

    @bp.post("/token/revoke")
    def revoke() -> Response:
        given = params().get("token", [])
        accounts.revoke(given[0] if len(set(given)) == 1 else None)
        return json_response({"status": "success"}, 200, CONTENT_TYPE)

    @bp.get("/auth")
    def authorize() -> Response:
        target = accounts.authorize(params(), data_centre(), base_url(settings), request_tick(store).now)
        # No HTML "Redirecting..." page; and a Latin-1-safe header, whatever the redirect URI holds.
        return Response(status=302, headers={"Location": iri_to_uri(target)})

    return bp
