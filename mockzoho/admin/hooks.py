"""What the toolkit does around every API request: rate limits and faults before it, the journal after it."""

from __future__ import annotations

import re
import socket
import time
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import HTTPException

from ..core.context import Call, app_state, call
from ..core.families import Family
from ..core.responses import json_response
from ..core.templating import TemplateFailed
from ..store import LARGEST_INTEGER
from ..wire import refuse_undeliverable_length
from ..zoho.errors import ZohoError
from .access_log import log_call
from .models import Faults, Limits
from .proxy import ProxyFailed, Upstream, forward, recorded_stub, via_mark
from .stubs import Seen, Stub, Stubs, rendered, template_context

PREVIEW_BYTES = 256
PREVIEWED_BODY = 64 * 1024  # bodies up to this size that no route read are read for the preview
MATCHED_BODY = 1 << 20  # bodies up to this size are read for a stub's `json` match and templates
UNMATCHED_HEADER = "X-Mockzoho-Unmatched"
# Secrets in an answer's JSON (the accounts server's tokens) and in a redirect (a grant code): the journal
# keeps their last 4 characters, as it does of request credentials.
ANSWER_SECRETS = re.compile(r'("(?:access_token|refresh_token|id_token|client_secret|token)"\s*:\s*")([^"]*)"')
LOCATION_SECRETS = re.compile(r"([?&#](?:code|access_token|refresh_token)=)([^&#]*)")


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


def stubs() -> Stubs:
    """The stubs in this app."""
    state = app_state()
    return state.shared("stubs", lambda: Stubs(state.store))


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
    return proxy_answer(current, proxy_to, record=current.state.settings.record) if proxied else None


def unmodelled(current: Call) -> bool:
    """Whether no route of the mock serves this call's URL and method."""
    if request.url_rule is None:
        return True
    owner = current.owner()
    return owner is not None and owner.models_url is not None and not owner.models_url()


def seen_call(org: str | None) -> Seen:
    """This call as a stub's match sees it (a body larger than MATCHED_BODY, or streamed, is not read)."""
    size = request.content_length
    body = request.get_data(cache=True) if size is not None and size <= MATCHED_BODY else None
    return Seen(request.method, request.path, request.args.to_dict(flat=False),
                {name.lower(): value for name, value in request.headers.items()}, body, org)


def stub_answer(current: Call, owner: Family, org: str | None) -> Response | None:
    """The answer of the newest stub that matches this call and has answers left, or None. A stub with `auth`
    checks the call's credentials as the family does (refused in its terms) and matches the caller's org."""
    seen = seen_call(org)
    caller: list[str | None] = []  # authenticated once, for the first stub that needs it
    for stub in stubs().candidates(seen, recorded=not current.state.settings.record):
        caller_org = org
        if stub.spec.get("auth", True) and owner.authenticate is not None:
            current.matched = f"stub {stub.id}"  # a refusal by its check is the stub's answer
            if not caller:
                caller.append(owner.authenticate())
            caller_org = caller[0]
        if (stub.org is not None and stub.org != caller_org) or not stubs().take(stub):
            current.matched = None
            continue
        current.matched = f"stub {stub.id}"
        current.settle_org(caller_org)
        return stubbed(stub, seen, caller_org, current)
    return None


def stubbed(stub: Stub, seen: Seen, org: str | None, current: Call) -> Response:
    """A stub's answer, its templates rendered with this call's values."""
    respond = stub.spec["respond"]
    if respond.get("delay_ms"):
        time.sleep(respond["delay_ms"] / 1000)
        current.forget_view()
    if "proxy" in respond:
        return proxy_answer(current, respond["proxy"], record=False)
    store = current.state.store
    context = template_context(seen, org, iso_time(current.view().now),
                               lambda: store.new_id(org, journaled_product(current)))
    try:
        status, headers, body, is_json = rendered(respond, context)
    except TemplateFailed as exc:
        # The stub's own template is at fault, not the call: said plainly, in no API's envelope.
        return json_response({"error": "stub_template_failed", "message": f"stub {stub.id}: {exc}"}, 500,
                             "application/json")
    if is_json:
        response = json_response(body, status, "application/json;charset=utf-8")
    else:
        response = Response(body, status=status, content_type="text/plain;charset=utf-8")
    response.headers.update(headers)
    return response


def iso_time(epoch: float) -> str:
    """The server time as Zoho writes times (`2026-12-03T10:00:00+00:00`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def proxy_answer(current: Call, base: str, record: bool) -> Response:
    """The call forwarded to `base` and its answer returned (with `record`, kept as a stub too); a 502 in plain
    JSON if the upstream cannot be reached."""
    current.matched = f"proxy {base}"
    via = via_mark(str(current.state.settings.state))
    if via in request.headers.get("Via", ""):
        return json_response({"error": "proxy_loop", "message": f"the call came back from {base}: the proxy "
                                                                "leads to this server itself"}, 508, "application/json")
    try:
        upstream = forward(base, request.method, request.path, request.query_string.decode("latin-1"),
                           request.headers.items(), request.get_data(cache=True), via)
    except ProxyFailed as exc:
        return json_response({"error": "proxy_failed", "message": f"the upstream {base} did not answer: {exc}"},
                             502, "application/json")
    if record:
        keep_recording(current, upstream)
    response = Response(upstream.body, status=upstream.status)
    response.headers.clear()
    for name, value in upstream.headers:
        response.headers.add(name, value)
    return response


def keep_recording(current: Call, upstream: Upstream) -> None:
    """Save the upstream's answer as a stub, replacing an earlier recording of the same call."""
    org = current.org if current.org_known else None
    spec = recorded_stub(request.method, request.path, request.query_string.decode("latin-1"), upstream, org)
    if spec is None:
        return
    for stub in stubs().all():
        if stub.source == "recorded" and stub.spec.get("match") == spec["match"] and stub.org == org:
            stubs().remove(stub.id)
    stubs().add(spec, source="recorded")


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
    """Journal this call with its answer (None: a dropped connection, which has none)."""
    req = request._get_current_object()  # proxies cost: resolve once
    environ = req.environ
    size, preview = answer_preview(response)
    entry = {
        "time": current.view().now, "method": req.method, "path": req.path,
        "query": environ.get("QUERY_STRING", ""), "headers": redacted(environ),
        "body_size": min(req.content_length or 0, LARGEST_INTEGER), "body_preview": body_preview(req),
        "status": 0 if response is None else response.status_code,
        "code": "DROPPED" if response is None else current.api_code,
        "duration_ms": round((time.perf_counter() - current.started) * 1000, 3),
        "org": current.org if current.org_known else journal_org(current),
        "tag": environ.get("HTTP_X_MOCKZOHO_TAG"), "product": journaled_product(current),
        "response_headers": {} if response is None else answer_headers(response.headers),
        "response_size": size, "response_preview": preview,
        "matched": current.matched, "unmatched": bool(response is not None and UNMATCHED_HEADER in response.headers)}
    current.state.store.journal.record(entry)
    log_call(entry)
    current.recorded = True


def answer_preview(response: Response | None) -> tuple[int, str]:
    """An answer's size and the start of its body, secrets shortened (a streamed file: its size alone)."""
    if response is None:
        return 0, ""
    if response.is_streamed or response.direct_passthrough:
        return response.content_length or 0, ""
    data = response.get_data()
    if b"token" not in data and b"secret" not in data:  # most answers: nothing to shorten
        return len(data), data[:PREVIEW_BYTES].decode("utf-8", "replace")
    text = data[:PREVIEW_BYTES * 16].decode("utf-8", "replace")  # room for the secrets to be found whole
    return len(data), ANSWER_SECRETS.sub(lambda m: f'{m[1]}****{m[2][-4:]}"', text)[:PREVIEW_BYTES]


def answer_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """An answer's headers for the journal, a redirect's grant code and cookies shortened."""
    shown = {}
    for name, value in headers.items():
        if name.lower() == "location":
            value = LOCATION_SECRETS.sub(lambda m: f"{m[1]}****{m[2][-4:]}", value)
        elif name.lower() == "set-cookie":
            value = f"****{value[-4:]}"
        shown[name] = value
    return shown


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
