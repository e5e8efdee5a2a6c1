"""The app factory: settings -> fixtures -> store -> blueprints -> error handler."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from .accounts.errors import OAuthError
from .accounts.routes import make_accounts_blueprint
from .admin.errors import AdminError
from .admin.hooks import DropConnections, install_hooks, product_of
from .admin.routes import make_admin_blueprint
from .config import Settings
from .cosmos.errors import CosmosError
from .cosmos.routes import make_cosmos_blueprint
from .exposure import LISTENERS
from .seed import PRODUCTS, open_state
from .store import StateError
from .wire import GuardInput, MockzohoRequest
from .zoho.errors import ZohoError
from .zoho.routes import make_blueprint

log = logging.getLogger(__name__)

# werkzeug's own HTTP errors, in the product's terms.
HTTP_ERROR_CODES = {404: "INVALID_URL_PATTERN", 405: "INVALID_REQUEST_METHOD", 308: "INVALID_URL_PATTERN",
                    413: "FILE_SIZE_MORE_THAN_ALLOWED_SIZE"}


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """A ready mockzoho app; the state file is seeded from the fixtures the first time only."""
    settings = Settings.load(config)
    store = open_state(settings)
    if settings.admin_token and store.find_token(settings.admin_token) is not None:
        raise StateError("the admin token is also a Zoho access token of the fixtures: choose another one")
    app = Flask(__name__)
    app.request_class = MockzohoRequest
    app.test_client_class = InProcessClient
    # OPTIONS is not served by these APIs: Flask must not answer it by itself (with an HTML body).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    # `//` must not be redirected: it is simply a URL the API does not have.
    app.url_map.merge_slashes = False
    app.extensions["mockzoho"] = {"settings": settings, "store": store}
    for product in PRODUCTS:
        app.register_blueprint(make_blueprint(product, store, settings))
    app.register_blueprint(make_accounts_blueprint(store, settings))
    app.register_blueprint(make_cosmos_blueprint(store, settings))
    app.register_blueprint(make_admin_blueprint(store, settings, PRODUCTS))
    install_hooks(app, store)
    app.wsgi_app = GuardInput(DropConnections(app.wsgi_app))  # type: ignore[method-assign]
    app.register_error_handler(Exception, render_error)
    app.before_request(refuse_leading_slashes)
    return app


class InProcessClient(FlaskClient):
    """Flask's test client. Its requests come through no socket at all: no one else can reach the app by it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base[LISTENERS] = ()


def refuse_leading_slashes() -> None:
    """`//crm/...` is not a URL of the Zoho API; werkzeug would strip the extra slash and serve it.
    (Cosmos DB clients may send `//dbs/...`: the service collapses it, and so does the mock.)"""
    if request.environ.get("PATH_INFO", "").startswith("//") and api_of(request.path) != "cosmos":
        raise NotFound()


def api_of(path: str) -> str:
    """Which API a path belongs to, so that its errors come in that API's envelope."""
    if path.startswith("/__admin"):
        return "admin"
    product = product_of(path)
    return product if product in ("accounts", "cosmos") else "zoho"


def render_error(exc: Exception) -> Response:
    """Every error, whatever raised it, in the envelope of the API it hit; never HTML or a traceback."""
    if isinstance(exc, (ZohoError, OAuthError, AdminError, CosmosError)):
        return exc.response()
    if isinstance(exc, UnicodeError):  # bytes in the query or form that are not UTF-8
        exc = BadRequest()
    client_error = isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500
    if not client_error:
        log.exception("unexpected error", exc_info=exc)
    api = api_of(request.path)
    if api == "cosmos":
        codes = {404: "NotFound", 405: "MethodNotAllowed", 413: "RequestEntityTooLarge"}
        return CosmosError(codes.get(exc.code, "BadRequest") if client_error  # type: ignore[union-attr]
                           else "InternalServerError").response()
    if api == "admin":
        status = exc.code if client_error else 500  # type: ignore[union-attr]
        return AdminError(status, "not_found" if status == 404 else "invalid_request" if client_error
                          else "internal_error", str(exc) if client_error else "unexpected error").response()
    if api == "accounts":
        return OAuthError("invalid_request" if client_error else "server_error",
                          exc.code if client_error else 500).response()  # type: ignore[union-attr]
    if client_error:
        return ZohoError(HTTP_ERROR_CODES.get(exc.code, "UNABLE_TO_PARSE_DATA_TYPE")).response()  # type: ignore
    return ZohoError("INTERNAL_ERROR").response()
