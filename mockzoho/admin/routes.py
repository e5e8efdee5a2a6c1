"""The control API under /__admin: health, reset, fixtures, orgs, tokens, clock, journal, faults, stubs, limits."""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, request

from .. import __version__
from ..core.context import app_state, call
from ..core.families import Family
from ..core.strict_json import not_json
from ..exposure import closed_because, open_without_token
from ..nesting import MAX_NESTING, nesting
from ..state import ZOHO_PRODUCTS
from ..store import LARGEST_INTEGER, FixtureOrgProtected, OrgExists, UnknownOrg, UnknownUser, shown_location
from ..store.journal import JournalFilter
from .errors import AdminError, admin_response
from .answering import stubs
from .hooks import faults, install_hooks, limits
from .openapi import register as register_openapi
from .stubs import Seen
from .models import (
    EARLIEST,
    LATEST,
    mint_tokens,
    set_clock,
)

MAX_FIXTURE_BODY = 64 << 20
MAX_JSON_BODY = 4 << 20  # the control API's JSON calls are a few fields: a larger body is refused unread


def iso(epoch: float) -> str:
    """An epoch time as ISO 8601 in UTC."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def load(schema: str, data: Any) -> Any:
    """Validate a request's JSON (or query) with the schema of that name in `schemas`; every problem in one
    400. The schemas load on first use: marshmallow compiles its validators on import, a tenth of start-up."""
    from . import schemas

    try:
        return getattr(schemas, schema)().load(data if data is not None else {})
    except schemas.ValidationError as exc:
        raise AdminError(400, "invalid_request", "the request does not fit: see details", exc.messages) from None


def json_body() -> Any:
    """The JSON body, whatever Content-Type it came with (curl -d sends it as a form)."""
    data = request.get_data()
    if not data:
        return None
    try:
        body = json.loads(data, parse_constant=not_json)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        body = None
    if body is None:
        raise AdminError(400, "invalid_json", "the body is not valid JSON")
    if nesting(body) > MAX_NESTING:
        raise AdminError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING} levels")
    return body


blueprint = Blueprint("admin", __name__)
FAMILY = Family(name="admin", error=AdminError, blueprint=blueprint, prefixes=("/__admin",),
                options={"url_prefix": "/__admin"}, journaled=False)
# The toolkit acts around every call of the app, whichever family serves it: it comes with the control API.
blueprint.record_once(lambda setup: install_hooks(setup.app))
register_openapi(blueprint)


def trusted(kept: str | None = None) -> bool:
    """True if this request may use the whole control API: it brings the admin token (as a bearer token, else
    `kept`: the dashboard's cookie), or none is set and it came over loopback to a server that listens on
    loopback alone."""
    if not app_state().settings.admin_token:
        return open_without_token(request.environ)
    auth = request.authorization
    given = auth.token if auth is not None and auth.type == "bearer" else kept
    return given is not None and secrets.compare_digest(given.encode(), app_state().settings.admin_token.encode())


@blueprint.before_request
def require_trust() -> None:
    request.max_content_length = MAX_JSON_BODY  # PUT /fixtures raises it for itself
    call().trusted = trusted()
    if call().trusted or request.endpoint == "admin.health":
        return
    if app_state().settings.admin_token:
        raise AdminError(401, "unauthorized", "the control API needs `Authorization: Bearer <admin token>`")
    raise AdminError(403, "control_api_closed", f"the control API is closed without an admin token: "
                                                f"{closed_because(request.environ)}; start the server with "
                                                "MOCKZOHO_ADMIN_TOKEN set to use it")


@blueprint.get("/health")
def health() -> Response:
    if not call().trusted:  # open to probes, but where the state lives and who serves it is the admin's
        return admin_response({"status": "ok", "version": __version__})
    state = app_state()
    return admin_response({"status": "ok", "version": __version__, "pid": os.getpid(),
                           "uptime_seconds": round(time.monotonic() - state.started, 3),
                           "state": shown_location(state.settings.state), "fixtures": str(state.settings.fixtures),
                           "fixture_digest": state.store.seeded_digest()})


@blueprint.post("/reset")
def reset() -> Response:
    org = load("ResetSchema", json_body())["org"]
    began = time.perf_counter()
    try:
        app_state().store.reset(org)
    except UnknownOrg:
        raise AdminError(404, "not_found", f"no org {org!r}") from None
    return admin_response({"reset": org or "all", "duration_ms": round((time.perf_counter() - began) * 1000, 3)})


@blueprint.put("/fixtures")
def replace_fixtures() -> Response:
    from ..fixtures import (  # YAML: loaded on use, as in state.py
        FixtureError,
        FixtureSource,
        parse_fixtures,
    )

    request.max_content_length = MAX_FIXTURE_BODY
    try:
        fixtures = parse_fixtures([FixtureSource("request body", request.get_data(), None)], ZOHO_PRODUCTS)
    except FixtureError as exc:
        raise AdminError(400, "invalid_fixtures", f"{len(exc.problems)} problem(s) in the fixtures",
                         exc.problems) from None
    tokens = {t.token for org in fixtures.orgs for t in (*org.tokens, *org.refresh_tokens)}
    if app_state().settings.admin_token and app_state().settings.admin_token in tokens:
        raise AdminError(400, "invalid_fixtures", "a fixture token equals the admin token")
    app_state().store.replace_fixtures(fixtures)
    return admin_response({"fixture_digest": fixtures.digest, "orgs": [o.id for o in fixtures.orgs]})


@blueprint.get("/orgs")
def list_orgs() -> Response:
    return admin_response({"orgs": [{"id": i, "template": t} for i, t in app_state().store.org_ids()]})


@blueprint.post("/orgs")
def create_org() -> Response:
    spec = load("OrgSchema", json_body())
    try:
        new_id, tokens, clients = app_state().store.clone_org(spec["from_"], spec["id"], spec["empty"])
    except UnknownOrg as exc:
        raise AdminError(404, "not_found", f"no fixture org {exc.org!r} to clone") from None
    except OrgExists as exc:
        raise AdminError(409, "conflict", str(exc)) from None
    return admin_response({"id": new_id, "tokens": tokens, "clients": clients}, 201)


@blueprint.delete("/orgs/<org>")
def delete_org(org: str) -> Response:
    try:
        app_state().store.delete_org(org)
    except UnknownOrg:
        raise AdminError(404, "not_found", f"no org {org!r}") from None
    except FixtureOrgProtected as exc:
        raise AdminError(409, "conflict", str(exc)) from None
    return admin_response({"deleted": org})


@blueprint.post("/tokens")
def mint() -> Response:
    return admin_response(minted(load("TokenSchema", json_body())), 201)


def minted(spec: dict[str, Any]) -> dict[str, Any]:
    """Tokens minted as a valid TokenSchema asks: `access_token`, `refresh_token`, `expires_at`; a 404 for a user
    the org does not have."""
    store = app_state().store
    now = store.now()
    try:
        access, refresh = mint_tokens(store, spec["org"], spec["user"], spec["scopes"], spec["expires_in"], now)
    except UnknownUser as exc:
        raise AdminError(404, "not_found", str(exc)) from None
    return {"access_token": access, "refresh_token": refresh, "expires_at": iso(now + spec["expires_in"])}


@blueprint.get("/clock")
def clock() -> Response:
    store = app_state().store
    return admin_response({"now": iso(store.now()), "frozen": store.clock_frozen()})


@blueprint.put("/clock")
def put_clock() -> Response:
    spec = load("ClockSchema", json_body())
    set_clock(app_state().store, spec["now"].timestamp(), spec["frozen"], time.time())
    return clock()


@blueprint.post("/clock/advance")
def advance() -> Response:
    seconds = load("AdvanceSchema", json_body())["seconds"]
    if not EARLIEST.timestamp() <= app_state().store.now() + seconds <= LATEST.timestamp():
        raise AdminError(400, "invalid_request", "the clock must stay between 1971 and 9000")
    app_state().store.advance_clock(seconds)
    return clock()


def journal_filter(args: dict[str, str] | None = None) -> tuple[JournalFilter, int, bool]:
    """The entries a journal query (this request's, or `args`) asks for, how many at most, and whether oldest
    first."""
    query = load("JournalQuerySchema", request.args.to_dict() if args is None else args)
    since = query.pop("since")
    limit = query.pop("limit")
    oldest_first = query.pop("order") == "asc"
    return JournalFilter(**query, since=None if since is None else since.timestamp()), limit, oldest_first


def journal_entries(where: JournalFilter, limit: int, oldest_first: bool = False) -> list[dict[str, Any]]:
    entries = app_state().store.journal.find(where, limit, oldest_first)
    for entry in entries:
        entry["time"] = iso(entry["time"])
    return entries


@blueprint.get("/requests")
def requests_() -> Response:
    return admin_response({"requests": journal_entries(*journal_filter())})


@blueprint.get("/requests/unmatched")
def unmatched() -> Response:
    """The calls nothing modelled or stubbed, newest first, each with the stubs closest to matching it."""
    query = load("UnmatchedQuerySchema", request.args.to_dict())
    entries = journal_entries(JournalFilter(org=query["org"], unmatched=True), query["limit"])
    every = stubs().all()
    for entry in entries:
        entry["near_misses"] = stubs().near_misses(seen_in_journal(entry), every)
    return admin_response({"requests": entries})


def seen_in_journal(entry: dict[str, Any]) -> Seen:
    """A journaled call as a stub's match would have seen it (its body only if the journal kept it whole)."""
    whole = 0 < entry["body_size"] == len(entry["body_preview"].encode())
    body = entry["body_preview"].encode() if whole else None
    return Seen.of(entry["method"], entry["path"], parse_qs(entry["query"], keep_blank_values=True),
                   entry["headers"].items(), lambda: body, entry["org"])


@blueprint.get("/requests/count")
def count() -> Response:
    return admin_response({"count": app_state().store.journal.count(journal_filter()[0])})


@blueprint.delete("/requests")
def clear_requests() -> Response:
    deleted = app_state().store.journal.clear(request.args.get("org"), request.args.get("tag"))
    return admin_response({"deleted": deleted})


@blueprint.post("/faults")
def add_fault() -> Response:
    return admin_response({"id": faults().add(fault_spec(json_body()))}, 201)


def fault_spec(body: Any) -> dict[str, Any]:
    """A fault as the control API takes it: valid, and able to fire (else a 400 saying why)."""
    spec = load("FaultSchema", body)
    problem = unmatchable(spec.get("match", {}), spec.get("respond", {}).get("code"))
    if problem:
        raise AdminError(400, "matches_nothing", f"this fault would never fire: {problem}")
    return spec


def unmatchable(match: dict[str, Any], code: str | None) -> str | None:
    """Why a fault's match can never be met, if it cannot."""
    from ..fixtures.stubs import METHODS  # marshmallow's: loaded with the schemas, on the first admin call

    method, path, product = match.get("method"), match.get("path"), match.get("product")
    if method is not None and method.upper() not in METHODS:
        return f"{method!r} is not an HTTP method"
    if path is not None and not path.startswith(("/", "*", "?", "[")):
        return f"paths start with '/', {path!r} does not"
    literal = (path or "").split("*")[0].split("?")[0].split("[")[0]
    families = app_state().families
    prefixes = families.named(product).prefixes if product else ()
    if prefixes and literal and not any(literal.startswith(p) or p.startswith(literal) for p in prefixes):
        return f"{product} URLs start with {' or '.join(prefixes)}, the path {path!r} does not"
    if code is not None and product is not None and not families.named(product).error.has_code(code):
        return f"{code} is not an error of {product}"
    closed = [f.error.CATALOGUE for f in families if f.journaled and f.error.CATALOGUE is not None]
    if code is not None and product is None and not any(code in catalogue for catalogue in closed):
        return f"{code} is not an error code of the Zoho or Cosmos DB catalogue"
    if match.get("org") is not None and match["org"] not in {i for i, _ in app_state().store.org_ids()}:
        return f"there is no org {match['org']!r}"
    if match.get("token") is not None and app_state().store.find_token(match["token"]) is None:
        return "that token is unknown"
    return None


@blueprint.get("/faults")
def list_faults() -> Response:
    return admin_response({"faults": faults().all(request.args.get("org"))})


@blueprint.delete("/faults")
def clear_faults() -> Response:
    return admin_response({"deleted": faults().remove(None, request.args.get("org"))})


@blueprint.delete(f"/faults/<int(max={LARGEST_INTEGER}):fault_id>")  # a larger id is no fault's: 404
def delete_fault(fault_id: int) -> Response:
    if not faults().remove(fault_id):
        raise AdminError(404, "not_found", f"no fault {fault_id}")
    return admin_response({"deleted": 1})


@blueprint.post("/stubs")
def add_stub() -> Response:
    return admin_response({"id": stubs().add(stub_spec(json_body()))}, 201)


def stub_spec(body: Any) -> dict[str, Any]:
    """A stub as the control API takes it: valid, and for an org there is (else a 400 saying why)."""
    spec = load("StubSchema", body)
    if spec["org"] is not None and spec["org"] not in {i for i, _ in app_state().store.org_ids()}:
        raise AdminError(400, "matches_nothing", f"this stub would never answer: there is no org {spec['org']!r}")
    return spec


@blueprint.get("/stubs")
def list_stubs() -> Response:
    return admin_response({"stubs": [stub.listed() for stub in stubs().all(request.args.get("org"))]})


@blueprint.delete("/stubs")
def clear_stubs() -> Response:
    return admin_response({"deleted": stubs().remove(None, request.args.get("org"))})


@blueprint.delete(f"/stubs/<int(max={LARGEST_INTEGER}):stub_id>")
def delete_stub(stub_id: int) -> Response:
    if not stubs().remove(stub_id):
        raise AdminError(404, "not_found", f"no stub {stub_id}")
    return admin_response({"deleted": 1})


@blueprint.put("/limits/<org>")
def set_limit(org: str) -> Response:
    spec = load("LimitSchema", json_body())
    limits().set(org, spec["calls"], spec["window_seconds"], spec["concurrency"])
    return admin_response({"org": org, **spec})


@blueprint.get("/limits")
def list_limits() -> Response:
    return admin_response({"limits": limits().all()})


@blueprint.delete("/limits")
@blueprint.delete("/limits/<org>")
def delete_limits(org: str | None = None) -> Response:
    return admin_response({"deleted": limits().remove(org)})
