"""What the toolkit does around every API request: rate limits, faults, stubs and the proxy before it, the
unmatched mark and the journal after it."""

from __future__ import annotations

import socket
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..core.context import Call, app_state, call
from ..core.families import Family
from ..core.responses import json_response
from ..wire import refuse_undeliverable_length
from ..zoho.errors import ZohoError
from . import journaling
from .answering import pause, proxy_answer, stub_answer
from .journaling import UNMATCHED_HEADER, journaled_product
from .models import Faults, Limits

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
    """Journal the call's start; then its org's rate limits, the faults, the stubs and the proxy, if any are set."""
    control_api = request.environ.get("PATH_INFO", "").startswith("/__admin")
    current = call()
    if not control_api:
        current.started = time.perf_counter()  # journaled, even when refused just below
    refuse_undeliverable_length()  # before any fault, limit or route acts on it
    if control_api:
        return None
    view, proxy_to = current.view(), current.state.settings.proxy_to
    proxied = bool(proxy_to) and unmodelled(current)
    if not (view.faults or view.limits or view.stubs or proxied):
        return None
    owner = current.family()
    org, token = org_and_token(current)
    if view.limits and org is not None:
        refused = limits().enter(org, view.now)
        if refused:
            current.settle_org(org)
            current.matched = "limit"
            raise ZohoError("TOO_MANY_REQUESTS", details={"limit": refused})
        current.in_flight = org
    fault = (faults().fire(journaled_product(current), owner.error.has_code, request.method, request.path, org, token)
             if view.faults else None)
    if fault is not None:
        current.matched = f"fault {fault.id}"
        answer = fault_answer(fault.spec, owner, org, current)
        if answer is not None:
            return answer
        current.matched = None  # a delay only: the call goes on
    if view.stubs:
        answer = stub_answer(current, owner, org)
        if answer is not None:
            return answer
    return proxy_answer(current, proxy_to, org, record=current.state.settings.record) if proxied else None


def unmodelled(current: Call) -> bool:
    """Whether no route of the mock serves this call's URL and method."""
    if request.url_rule is None:
        return True
    owner = current.owner()
    return owner is not None and owner.models_url is not None and not owner.models_url()


def fault_answer(spec: dict[str, Any], owner: Family, org: str | None, current: Call) -> Response | None:
    """What a fault that fired does: wait, drop the connection, answer in the family's terms, or let the call on."""
    current.settle_org(org)
    pause(spec.get("delay_ms"), current)
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
    record(call(), None)
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    request.environ[DROPPED] = True
    return Response(status=500)


def record(current: Call, response: Response | None) -> None:
    """Journal this call (None: a dropped connection) under the org it acted for."""
    journaling.record(current, response, current.org if current.org_known else journal_org(current))


def after(response: Response) -> Response:
    """Mark a call nothing modelled or stubbed, and journal the call (unless it was already, or is the control
    API's)."""
    current = call()
    if current.started is None:
        return response
    if current.matched is None:
        if unmodelled(current):
            response.headers[UNMATCHED_HEADER] = "1"
        else:
            current.matched = f"route {request.endpoint}"
    if not current.recorded:
        record(current, response)
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
