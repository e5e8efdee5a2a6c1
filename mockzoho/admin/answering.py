"""Answers the toolkit gives in place of a route: a stub's (its templates rendered), and the upstream's through the
proxy (kept as a stub while recording)."""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlsplit

from flask import Response, request

from ..core.context import Call, app_state
from ..core.families import Family
from ..core.responses import answer_code, json_response
from ..core.strict_json import not_json
from ..core.templating import TemplateFailed
from ..zoho.serialize import zoho_time
from .journaling import journaled_product
from .proxy import MAX_ANSWER, ProxyFailed, Upstream, forward, recorded_stub
from .stubs import Seen, Stub, Stubs, rendered, template_context

CODE_READ = 64 << 10  # an upstream answer up to this size is read for the code it carries
MATCHED_BODY = 1 << 20  # bodies up to this size are read for a stub's `json` match and templates
PLAIN_JSON = "application/json"  # the toolkit's own errors: in no API's envelope


def stubs() -> Stubs:
    """The stubs in this app."""
    state = app_state()
    return state.shared("stubs", lambda: Stubs(state.store))


def pause(delay_ms: int | None, current: Call) -> None:
    """Wait as a fault or stub says; the call then goes on as if it came in now (a token revoked meanwhile is
    refused)."""
    if delay_ms:
        time.sleep(delay_ms / 1000)
        current.forget_view()


def seen_call(org: str | None) -> Seen:
    """This call as a stub's match sees it; the body is read only if a match or a template needs it (one larger
    than MATCHED_BODY, or streamed, never is)."""
    def body() -> bytes | None:
        size = request.content_length
        return request.get_data(cache=True) if size is not None and size <= MATCHED_BODY else None
    return Seen.of(request.method, request.path, request.args.to_dict(flat=False), request.headers.items(), body, org)


def stub_answer(current: Call, owner: Family, org: str | None) -> Response | None:
    """The answer of the first stub that matches this call and has answers left, or None. A stub with `auth`
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
    pause(respond.get("delay_ms"), current)
    if "proxy" in respond:
        return proxy_answer(current, respond["proxy"], org, record=False)
    store = current.state.store
    context = template_context(seen, org, zoho_time(int(current.view().now), "UTC"),
                               lambda: store.new_id(org, journaled_product(current)))
    try:
        status, headers, body, is_json = rendered(respond, context)
    except TemplateFailed as exc:
        # The stub's own template is at fault, not the call: said plainly, in no API's envelope.
        return json_response({"error": "stub_template_failed", "message": f"stub {stub.id}: {exc}"}, 500, PLAIN_JSON)
    if is_json:
        response = json_response(body, status, "application/json;charset=utf-8")
    else:
        response = Response(body, status=status, content_type="text/plain;charset=utf-8")
    response.headers.update(headers)
    return response


def raw_target() -> tuple[str, str]:
    """The path and query as the client sent them, still percent-encoded (`a%2Fb` is not `a/b`)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if raw.startswith("/") or raw == "*":
        path, _, query = raw.partition("?")
        return path, query
    if raw:  # the absolute form, `GET http://host/path HTTP/1.1`
        parts = urlsplit(raw)
        return parts.path or "/", parts.query
    return quote(request.path, safe="/:@!$&'()*+,;=-._~"), request.query_string.decode("latin-1")


def proxy_answer(current: Call, base: str, org: str | None, record: bool) -> Response:
    """The call forwarded to `base` and its answer returned (with `record`, kept as a stub of `org` too); a 502 in
    plain JSON if the upstream cannot be reached, a 508 if the call came back round to this server."""
    current.matched = f"proxy {base}"
    state = current.state
    via = state.shared("via", lambda: f"1.1 mockzoho-{state.store.instance_mark()}")
    if via in request.headers.get("Via", ""):
        return json_response({"error": "proxy_loop", "message": f"the call came back from {base}: the proxy "
                                                                "leads to this server itself"}, 508, PLAIN_JSON)
    request.max_content_length = MAX_ANSWER
    path, query = raw_target()
    try:
        upstream = forward(base, request.method, path, query, request.headers.items(), request.get_data(cache=True),
                           via)
    except ProxyFailed as exc:
        return json_response({"error": "proxy_failed", "message": f"the upstream {base} did not answer: {exc}"},
                             502, PLAIN_JSON)
    if record:
        keep_recording(upstream, org)
    current.api_code = upstream_code(upstream.body)
    response = Response(upstream.body, status=upstream.status)
    response.headers.clear()
    for name, value in upstream.headers:
        response.headers.add(name, value)
    if request.method == "HEAD" and upstream.length is not None:
        response.headers["Content-Length"] = upstream.length  # the size of the body a GET would get
    return response


def upstream_code(body: bytes) -> str | None:
    """The code an upstream's JSON answer carries, for the journal (a large or non-JSON one: none)."""
    if len(body) > CODE_READ:
        return None
    try:
        return answer_code(json.loads(body, parse_constant=not_json))
    except (ValueError, RecursionError):
        return None


def keep_recording(upstream: Upstream, org: str | None) -> None:
    """Save the upstream's answer as a stub of `org`, replacing an earlier recording of the same call."""
    spec = recorded_stub(request.method, request.path, request.query_string.decode("latin-1"), upstream, org)
    if spec is not None:
        stubs().record(spec)

