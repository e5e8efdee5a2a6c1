"""The control API under /__admin: health, reset, fixtures, orgs, tokens, clock, journal, faults, limits."""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Iterable

from flask import Blueprint, Response, g, request

from .. import __version__
from ..config import Settings
from ..exposure import closed_because, open_without_token
from ..nesting import MAX_NESTING, nesting
from ..store import LARGEST_INTEGER, FixtureOrgProtected, OrgExists, Store, UnknownOrg
from ..store.journal import JournalFilter
from ..zoho.errors import json_response
from ..zoho.product import Product
from . import hooks
from .errors import AdminError
from .models import (
    EARLIEST,
    LATEST,
    AdminConflict,
    Faults,
    Limits,
    advance_clock,
    clock_state,
    code_fits,
    mint_tokens,
    set_clock,
)

MAX_FIXTURE_BODY = 64 << 20
MAX_JSON_BODY = 4 << 20  # the control API's JSON calls are a few fields: a larger body is refused unread
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
PRODUCT_PREFIXES = {name: prefix for prefix, name in hooks.PRODUCT_PREFIXES}


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
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        body = None
    if body is None:
        raise AdminError(400, "invalid_json", "the body is not valid JSON")
    if nesting(body) > MAX_NESTING:
        raise AdminError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING} levels")
    return body


def make_admin_blueprint(store: Store, settings: Settings, products: Iterable[Product]) -> Blueprint:
    """The /__admin blueprint."""
    products = tuple(products)
    bp = Blueprint("admin", __name__, url_prefix="/__admin")
    started = time.monotonic()
    journal, faults, limits = store.journal, Faults(store), Limits(store)

    def trusted() -> bool:
        """True if this request may use the whole control API: it brings the admin token, or none is set and
        it came over loopback to a server that listens on loopback alone."""
        if not settings.admin_token:
            return open_without_token(request.environ)
        auth = request.authorization
        given = auth.token if auth is not None and auth.type == "bearer" else None
        return given is not None and secrets.compare_digest(given.encode(), settings.admin_token.encode())

    @bp.before_request
    def require_trust() -> None:
        request.max_content_length = MAX_JSON_BODY  # PUT /fixtures raises it for itself
        g.trusted = trusted()
        if g.trusted or request.endpoint == "admin.health":
            return
        if settings.admin_token:
            raise AdminError(401, "unauthorized", "the control API needs `Authorization: Bearer <admin token>`")
        raise AdminError(403, "control_api_closed", f"the control API is closed without an admin token: "
                                                    f"{closed_because(request.environ)}; start the server with "
                                                    "MOCKZOHO_ADMIN_TOKEN set to use it")

    @bp.get("/health")
    def health() -> Response:
        if not g.trusted:  # open to probes, but where the state lives and who serves it is the admin's
            return json_response({"status": "ok", "version": __version__})
        return json_response({"status": "ok", "version": __version__, "pid": os.getpid(),
                              "uptime_seconds": round(time.monotonic() - started, 3), "state": str(settings.state),
                              "fixtures": str(settings.fixtures), "fixture_digest": store.seeded_digest()})

    @bp.post("/reset")
    def reset() -> Response:
        org = load("ResetSchema", json_body())["org"]
        began = time.perf_counter()
        try:
            store.reset(org)
        except UnknownOrg:
            raise AdminError(404, "not_found", f"no org {org!r}") from None
        return json_response({"reset": org or "all", "duration_ms": round((time.perf_counter() - began) * 1000, 3)})

    @bp.put("/fixtures")
    def replace_fixtures() -> Response:
        from ..fixtures import (  # YAML: loaded on use, as in seed.py
            FixtureError,
            FixtureSource,
            parse_fixtures,
        )

        request.max_content_length = MAX_FIXTURE_BODY
        try:
            fixtures = parse_fixtures([FixtureSource("request body", request.get_data(), None)], products)
        except FixtureError as exc:
            raise AdminError(400, "invalid_fixtures", f"{len(exc.problems)} problem(s) in the fixtures",
                             exc.problems) from None
        tokens = {t.token for org in fixtures.orgs for t in (*org.tokens, *org.refresh_tokens)}
        if settings.admin_token and settings.admin_token in tokens:
            raise AdminError(400, "invalid_fixtures", "a fixture token equals the admin token")
        store.replace_fixtures(fixtures)
        return json_response({"fixture_digest": fixtures.digest, "orgs": [o.id for o in fixtures.orgs]})

    @bp.get("/orgs")
    def list_orgs() -> Response:
        return json_response({"orgs": [{"id": i, "template": t} for i, t in store.org_ids()]})

    @bp.post("/orgs")
    def create_org() -> Response:
        spec = load("OrgSchema", json_body())
        try:
            new_id, tokens, clients = store.clone_org(spec["from_"], spec["id"], spec["empty"])
        except UnknownOrg as exc:
            raise AdminError(404, "not_found", f"no fixture org {exc.org!r} to clone") from None
        except OrgExists as exc:
            raise AdminError(409, "conflict", str(exc)) from None
        return json_response({"id": new_id, "tokens": tokens, "clients": clients}, 201)

    @bp.delete("/orgs/<org>")
    def delete_org(org: str) -> Response:
        try:
            store.delete_org(org)
        except UnknownOrg:
            raise AdminError(404, "not_found", f"no org {org!r}") from None
        except FixtureOrgProtected as exc:
            raise AdminError(409, "conflict", str(exc)) from None
        return json_response({"deleted": org})

    @bp.post("/tokens")
    def mint() -> Response:
        spec = load("TokenSchema", json_body())
        now = store.now()
        try:
            access, refresh = mint_tokens(store, spec["org"], spec["user"], spec["scopes"], spec["expires_in"], now)
        except AdminConflict as exc:
            raise AdminError(404, "not_found", str(exc)) from None
        return json_response({"access_token": access, "refresh_token": refresh,
                              "expires_at": iso(now + spec["expires_in"])}, 201)

    @bp.get("/clock")
    def clock() -> Response:
        now, frozen = clock_state(store)
        return json_response({"now": iso(now), "frozen": frozen})

    @bp.put("/clock")
    def put_clock() -> Response:
        spec = load("ClockSchema", json_body())
        set_clock(store, spec["now"].timestamp(), spec["frozen"], time.time())
        return clock()

    @bp.post("/clock/advance")
    def advance() -> Response:
        seconds = load("AdvanceSchema", json_body())["seconds"]
        if not EARLIEST.timestamp() <= store.now() + seconds <= LATEST.timestamp():
            raise AdminError(400, "invalid_request", "the clock must stay between 1971 and 9000")
        advance_clock(store, seconds)
        return clock()

    def journal_filter() -> tuple[JournalFilter, int]:
        query = load("JournalQuerySchema", request.args.to_dict())
        since = query.pop("since")
        limit = query.pop("limit")
        return JournalFilter(**query, since=None if since is None else since.timestamp()), limit

    @bp.get("/requests")
    def requests_() -> Response:
        where, limit = journal_filter()
        entries = journal.find(where, limit)
        for entry in entries:
            entry["time"] = iso(entry["time"])
        return json_response({"requests": entries})

    @bp.get("/requests/count")
    def count() -> Response:
        return json_response({"count": journal.count(journal_filter()[0])})

    @bp.delete("/requests")
    def clear_requests() -> Response:
        return json_response({"deleted": journal.clear(request.args.get("org"), request.args.get("tag"))})

    @bp.post("/faults")
    def add_fault() -> Response:
        spec = load("FaultSchema", json_body())
        problem = unmatchable(spec.get("match", {}), spec.get("respond", {}).get("code"))
        if problem:
            raise AdminError(400, "matches_nothing", f"this fault would never fire: {problem}")
        return json_response({"id": faults.add(spec)}, 201)

    def unmatchable(match: dict[str, Any], spec_code: str | None) -> str | None:
        """Why a fault's match can never be met, if it cannot."""
        method, path, product = match.get("method"), match.get("path"), match.get("product")
        if method is not None and method.upper() not in METHODS:
            return f"{method!r} is not an HTTP method"
        if path is not None and not path.startswith(("/", "*", "?", "[")):
            return f"paths start with '/', {path!r} does not"
        literal = (path or "").split("*")[0].split("?")[0].split("[")[0]
        prefix = PRODUCT_PREFIXES.get(product or "")
        if prefix and literal and not (literal.startswith(prefix) or prefix.startswith(literal)):
            return f"{product} URLs start with {prefix}, the path {path!r} does not"
        code = spec_code
        if code is not None and product is not None and not code_fits(product, code):
            return f"{code} is not an error of {product}"
        if code is not None and product is None and not any(code_fits(p, code) for p in ("crm", "cosmos")):
            return f"{code} is not an error code of the Zoho or Cosmos DB catalogue"
        if match.get("org") is not None and match["org"] not in {i for i, _ in store.org_ids()}:
            return f"there is no org {match['org']!r}"
        if match.get("token") is not None and store.find_token(match["token"]) is None:
            return "that token is unknown"
        return None

    @bp.get("/faults")
    def list_faults() -> Response:
        return json_response({"faults": faults.all(request.args.get("org"))})

    @bp.delete("/faults")
    def clear_faults() -> Response:
        return json_response({"deleted": faults.remove(None, request.args.get("org"))})

    @bp.delete(f"/faults/<int(max={LARGEST_INTEGER}):fault_id>")  # a larger id is no fault's: 404
    def delete_fault(fault_id: int) -> Response:
        if not faults.remove(fault_id):
            raise AdminError(404, "not_found", f"no fault {fault_id}")
        return json_response({"deleted": 1})

    @bp.put("/limits/<org>")
    def set_limit(org: str) -> Response:
        spec = load("LimitSchema", json_body())
        limits.set(org, spec["calls"], spec["window_seconds"], spec["concurrency"])
        return json_response({"org": org, **spec})

    @bp.get("/limits")
    def list_limits() -> Response:
        return json_response({"limits": limits.all()})

    @bp.delete("/limits")
    @bp.delete("/limits/<org>")
    def delete_limits(org: str | None = None) -> Response:
        return json_response({"deleted": limits.remove(org)})

    return bp
