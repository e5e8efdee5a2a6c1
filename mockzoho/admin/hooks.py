"""What the toolkit does around every API request: rate limits and faults before it, the journal after it."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import HTTPException

from ..accounts.errors import OAuthError
from ..accounts.routes import MAX_BODY as ACCOUNTS_MAX_BODY
from ..cosmos.errors import RETRY_AFTER_MS, CosmosError
from ..store import LARGEST_INTEGER, Store
from ..ticks import request_tick
from ..wire import refuse_undeliverable_length
from ..zoho.errors import ZohoError, json_response
from .models import Faults, Limits

PREVIEW_BYTES = 256
PREVIEWED_BODY = 64 * 1024  # bodies up to this size that no route read are read for the preview
PRODUCT_PREFIXES = (("/crm/", "crm"), ("/bigin/", "bigin"), ("/oauth/", "accounts"))


DROPPED = "mockzoho.dropped"


class DroppedConnection(ConnectionAbortedError):
    """A fault closed the connection: there is no response to send."""


class DropConnections:
    """WSGI middleware: a request a fault dropped ends in an exception, not in a response, so that no
    server writes one (and an in-process test client sees the connection go)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        result = self.wsgi_app(environ, start_response)
        if environ.get(DROPPED):
            raise DroppedConnection("the connection was dropped by a fault")
        return result


def product_of(path: str) -> str | None:
    """The product a path belongs to (`crm`, `bigin`, `accounts`, `cosmos`), or None."""
    if path == "/" or path.startswith(("/dbs", "/media")):
        return "cosmos"
    return next((name for prefix, name in PRODUCT_PREFIXES if path.startswith(prefix)), None)


def redacted(environ: dict[str, Any]) -> dict[str, str]:
    """Request headers for the journal (read from the WSGI environ, which is faster than werkzeug's view);
    credentials keep only their last 4 characters."""
    shown = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        if name == "Authorization":
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} ****{secret[-4:]}" if secret else f"****{value[-4:]}"
        shown[name] = value
    return shown


SECRET_FIELDS = {"client_secret", "refresh_token", "code", "token"}


def body_preview(req: Request) -> str:
    """The start of the body as the route left it: file names of an upload, form fields (secrets shortened),
    or the bytes themselves when the route read them whole (or not at all)."""
    if not req.content_length and "CHUNKED" not in req.environ.get("HTTP_TRANSFER_ENCODING", "").upper():
        return ""
    if "files" in req.__dict__ and req.files:
        return " ".join(f"{name}={f.filename}" for name, f in req.files.items(multi=True))
    if "form" in req.__dict__ and req.form:
        fields = [(k, f"****{v[-4:]}" if k in SECRET_FIELDS else v) for k, v in req.form.items(multi=True)]
        return urlencode(fields, safe="*")[:PREVIEW_BYTES]
    size = req.content_length or 0
    data = getattr(req, "_cached_data", None)  # what the route read with get_data()
    if data is None and "stream" not in req.__dict__ and 0 < size <= PREVIEWED_BODY:
        try:
            data = req.get_data(cache=True)  # a small body nobody read
        except (HTTPException, OSError):
            data = None
    if not data:
        return f"<{size} bytes, streamed>" if size else ""
    return data[:PREVIEW_BYTES].decode("utf-8", "replace")


def install_hooks(app: Flask, store: Store) -> None:
    """Register the toolkit's request hooks on the app."""
    journal, faults, limits = store.journal, Faults(store), Limits(store)  # the journal opened with the state

    def org_and_token() -> tuple[str | None, str | None]:
        """The org a call acts for (from its access token, or on the accounts server from the refresh token,
        grant code or token it sends), and its access token."""
        auth = request.authorization
        token = auth.token if auth is not None and auth.type == "zoho-oauthtoken" else None
        if token:
            return store.org_of_credential(token), token
        if request.path.startswith("/oauth/"):
            request.max_content_length = ACCOUNTS_MAX_BODY
            for name in ("refresh_token", "code", "token"):
                value = request.values.get(name)
                if value:
                    return store.org_of_credential(value), None
        return None, None

    def journal_org() -> str | None:
        try:
            return org_and_token()[0]
        except (HTTPException, UnicodeError):  # a body too big to read, or a query that is not UTF-8
            return None

    def error_for(product: str | None, code: str) -> Exception:
        if product == "cosmos":
            return CosmosError(code)
        return OAuthError(code.lower()) if product == "accounts" else ZohoError(code)

    @app.before_request
    def before() -> Response | None:
        control_api = request.environ.get("PATH_INFO", "").startswith("/__admin")
        if not control_api:
            g.started = time.perf_counter()  # journaled, even when refused just below
        refuse_undeliverable_length()  # before any fault, limit or route acts on it
        if control_api:
            return None
        tick = request_tick(store)
        if not (tick.faults or tick.limits):
            return None
        product = product_of(request.path)
        org, token = org_and_token()
        if tick.limits and org is not None:
            refused = limits.enter(org, tick.now)
            if refused:
                g.org = org
                raise ZohoError("TOO_MANY_REQUESTS", details={"limit": refused})
            g.in_flight = org
        spec = faults.fire(product, request.method, request.path, org, token) if tick.faults else None
        if spec is None:
            return None
        g.org, g.fault = org, True
        if spec.get("delay_ms"):
            time.sleep(spec["delay_ms"] / 1000)
            g.pop("tick")  # the request goes on as if it came in now: a token revoked meanwhile is refused
        if spec.get("drop"):
            return drop_connection()
        respond = spec.get("respond")
        if respond is None:
            return None
        if "code" in respond:
            raise error_for(product, respond["code"])
        response = json_response(respond.get("body"), respond["status"], "application/json")
        response.headers.update(respond.get("headers", {}))
        if product == "cosmos" and respond["status"] == 429:
            response.headers.setdefault("x-ms-retry-after-ms", RETRY_AFTER_MS)  # what the SDKs wait on
        return response

    def drop_connection() -> Response:
        """Shut the socket; `DropConnections` then ends the request with no answer at all."""
        record(status=0, code="DROPPED")
        sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        request.environ[DROPPED] = True
        return Response(status=500)

    def record(status: int, code: str | None) -> None:
        req, ctx = request._get_current_object(), g._get_current_object()  # proxies cost: resolve once
        environ = req.environ
        journal.record({
            "time": request_tick(store).now, "method": req.method, "path": req.path,
            "query": environ.get("QUERY_STRING", ""), "headers": redacted(environ),
            "body_size": min(req.content_length or 0, LARGEST_INTEGER), "body_preview": body_preview(req),
            "status": status, "code": code, "duration_ms": round((time.perf_counter() - ctx.started) * 1000, 3),
            "org": ctx.org if "org" in ctx else journal_org(), "tag": environ.get("HTTP_X_MOCKZOHO_TAG"),
            "product": product_of(req.path)})
        ctx.recorded = True

    @app.after_request
    def after(response: Response) -> Response:
        ctx = g._get_current_object()
        if "started" in ctx and "recorded" not in ctx:
            record(response.status_code, ctx.get("api_code"))
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        org = g.get("in_flight")
        if org is not None:
            limits.leave(org)
