"""The app factory: settings -> fixtures -> store -> blueprints -> error handler."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from .config import Settings
from .core.context import AppState, family
from .core.errors import ApiError
from .core.routing import Route
from .exposure import LISTENERS
from .families import FAMILIES
from .state import open_state
from .store import StateError
from .wire import GuardInput, MockzohoRequest

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """A ready mockzoho app; the state file is seeded from the fixtures the first time only."""
    settings = Settings.load(config)
    store = open_state(settings)
    if settings.admin_token and store.find_token(settings.admin_token) is not None:
        raise StateError("the admin token is also a Zoho access token of the fixtures: choose another one")
    app = MockzohoApp(__name__)
    # OPTIONS is not served by these APIs: Flask must not answer it by itself (with an HTML body).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    # `//` must not be redirected: it is simply a URL the API does not have.
    app.url_map.merge_slashes = False
    app.extensions["mockzoho"] = AppState(settings, store, FAMILIES)
    for registered in FAMILIES:
        app.register_blueprint(registered.blueprint, name=registered.name, **registered.options)
    app.wsgi_app = GuardInput(app.wsgi_app)  # type: ignore[method-assign]
    app.register_error_handler(Exception, render_error)
    app.before_request(refuse_leading_slashes)
    return app


class InProcessClient(FlaskClient):
    """Flask's test client. Its requests come through no socket at all: no one else can reach the app by it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base[LISTENERS] = ()


class MockzohoApp(Flask):
    """Flask with mockzoho's requests and in-process client, and rules that compile their URL builders on first
    use (most of what making an app cost)."""

    request_class = MockzohoRequest
    test_client_class = InProcessClient
    url_rule_class = Route


def refuse_leading_slashes() -> None:
    """`//crm/...` is not a URL of the Zoho API; werkzeug would strip the extra slash and serve it.
    (Cosmos DB clients may send `//dbs/...`: the service collapses it, and so does the mock.)"""
    if request.environ.get("PATH_INFO", "").startswith("//") and not family().leading_slashes:
        raise NotFound()


def render_error(exc: Exception) -> Response:
    """Every error, whatever raised it, in the envelope of the family it hit; never HTML or a traceback."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, UnicodeError):  # bytes in the query or form that are not UTF-8
        exc = BadRequest()
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return family().error.from_http(exc).response()
    log.exception("unexpected error", exc_info=exc)
    return family().error.internal().response()
