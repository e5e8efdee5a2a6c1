"""What the toolkit does around every API request: rate limits and faults before it, the journal after it."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import HTTPException

from ..core.context import Call, app_state, call
from ..core.families import Family
from ..core.responses import json_response
from ..store import LARGEST_INTEGER
from ..wire import refuse_undeliverable_length
from ..zoho.errors import ZohoError
from .models import Faults, Limits

PREVIEW_BYTES = 256
PREVIEWED_BODY = 64 * 1024  # bodies up to this size that no route read are read for the preview


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


def faults() -> Faults:
    """The faults in this app."""
    state = app_state()
    return state.shared("faults", lambda: Faults(state.store))


def limits() -> Limits:
    """The rate limits in this app."""
    state = app_state()
    return state.shared("limits", lambda: Limits(state.store))


def journaled_product(current: Call) -> str | None:
    """The journaled family this request's path belongs to (`crm`, `bigin`, `accounts`, `cosmos`), or None."""
    owner = current.owner()
    return owner.name if owner is not None and owner.journaled else None


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


def org_and_token(current: Call) -> tuple[str | None, str | None]:
    """The org a call acts for (from its access token, or from the credential parameters of a family that takes
    them: the accounts server's refresh token, grant code or token), and its access token."""
    store, owner = current.state.store, current.family()
    auth = request.authorization
    token = auth.token if auth is not None and auth.type == "zoho-oauthtoken" else None
    if token:
        return store.org_of_credential(token), token
    if owner.credential_params:
        request.max_content_length = owner.max_credential_body
        for name in owner.credential_params:
            value = request.values.get(name)
            if value:
                return store.org_of_credential(value), None
    return None, None


def journal_org(current: Call) -> str | None:
    """The org to journal a call under when nothing settled it (a call refused before authentication)."""
    try:
        return org_and_token(current)[0]
    except (HTTPException, UnicodeError):  # a body too big to read, or a query that is not UTF-8
        return None


def before() -> Response | None:
    """Journal the call's start; then its org's rate limits and the faults, if any are set."""
    control_api = request.environ.get("PATH_INFO", "").startswith("/__admin")
    current = call()
    if not control_api:
        current.started = time.perf_counter()  # journaled, even when refused just below
    refuse_undeliverable_length()  # before any fault, limit or route acts on it
    if control_api:
        return None
    view = current.view()
    if not (view.faults or view.limits):
        return None
    owner = current.family()
    org, token = org_and_token(current)
    if view.limits and org is not None:
        refused = limits().enter(org, view.now)
        if refused:
            current.settle_org(org)
            raise ZohoError("TOO_MANY_REQUESTS", details={"limit": refused})
        current.in_flight = org
    spec = (faults().fire(journaled_product(current), owner.error.has_code, request.method, request.path, org, token)
            if view.faults else None)
    return None if spec is None else fault_answer(spec, owner, org, current)


def fault_answer(spec: dict[str, Any], owner: Family, org: str | None, current: Call) -> Response | None:
    """What a fault that fired does: wait, drop the connection, answer in the family's terms, or let the call on."""
    current.settle_org(org)
    if spec.get("delay_ms"):
        time.sleep(spec["delay_ms"] / 1000)
        current.forget_view()  # a token revoked meanwhile is refused
    if spec.get("drop"):
        return drop_connection()
    respond = spec.get("respond")
    if respond is None:
        return None
    if "code" in respond:
        raise owner.error.from_code(respond["code"])
    response = json_response(respond.get("body"), respond["status"], "application/json")
    response.headers.update(respond.get("headers", {}))
    if respond["status"] == 429:
        owner.error.throttled(response)
    return response


def drop_connection() -> Response:
    """Shut the socket; `DropConnections` then ends the request with no answer at all."""
    record(status=0, code="DROPPED", current=call())
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    request.environ[DROPPED] = True
    return Response(status=500)


def record(status: int, code: str | None, current: Call) -> None:
    """Journal this call with its answer's status and code."""
    req = request._get_current_object()  # proxies cost: resolve once
    environ = req.environ
    current.state.store.journal.record({
        "time": current.view().now, "method": req.method, "path": req.path,
        "query": environ.get("QUERY_STRING", ""), "headers": redacted(environ),
        "body_size": min(req.content_length or 0, LARGEST_INTEGER), "body_preview": body_preview(req),
        "status": status, "code": code, "duration_ms": round((time.perf_counter() - current.started) * 1000, 3),
        "org": current.org if current.org_known else journal_org(current),
        "tag": environ.get("HTTP_X_MOCKZOHO_TAG"), "product": journaled_product(current)})
    current.recorded = True


def after(response: Response) -> Response:
    """Journal the call (unless it was already, or is the control API's)."""
    current = call()
    if current.started is not None and not current.recorded:
        record(response.status_code, current.api_code, current)
    return response


def teardown(exc: BaseException | None) -> None:
    """Give back the concurrency slot the call held."""
    current = g.get("call")
    if current is not None and current.in_flight is not None:
        limits().leave(current.in_flight)


def install_hooks(app: Flask) -> None:
    """Register the toolkit's request hooks on the app, and the middleware that ends dropped connections."""
    app.wsgi_app = DropConnections(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(before)
    app.after_request(after)
    app.teardown_request(teardown)
