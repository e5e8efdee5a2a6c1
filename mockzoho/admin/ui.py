"""The dashboard under /__admin/ui: server-rendered pages over the control API's own models (no rule twice).

It follows the control API's trust: open on a loopback-only server without a token, else the admin token, given
once on the login page and kept in a cookie scoped to /__admin. Every form that changes state carries a CSRF
token (a cookie and a hidden field that must agree: a page of another site can read neither).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any, Callable
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request

from ..core.context import app_state, call
from ..core.families import Family
from ..core.strict_json import not_json
from ..nesting import MAX_NESTING, nesting
from ..store import LARGEST_INTEGER, UnknownOrg
from ..core.responses import file_response
from ..state import ZOHO_PRODUCTS
from ..store.search import Match
from ..zoho.calls import models as zoho_models
from ..zoho.errors import ZohoError
from ..zoho.fields import ModuleFields
from ..zoho.search import criteria_filter, operators_for, typed_filter
from .answering import stubs
from .client import problem_places
from .errors import AdminError, admin_response
from .hooks import faults
from .routes import fault_spec, iso, journal_entries, journal_filter, load, minted, stub_spec, trusted

COOKIE, CSRF = "mockzoho_admin", "mockzoho_csrf"
COOKIE_PATH = "/__admin"

blueprint = Blueprint("admin_ui", __name__, template_folder="templates")
FAMILY = Family(name="admin_ui", error=AdminError, blueprint=blueprint, prefixes=("/__admin/ui",),
                options={"url_prefix": "/__admin/ui"}, journaled=False)


@blueprint.before_request
def require_trust() -> Response | None:
    call().trusted = trusted(request.cookies.get(COOKIE))  # the control API's rule, the token also in a cookie
    if request.method == "POST":
        check_form_origin()
    if request.endpoint == "admin_ui.login":
        return None
    if not call().trusted:
        if not app_state().settings.admin_token:
            raise AdminError(403, "control_api_closed", "the dashboard is closed without an admin token: start "
                                                        "the server with MOCKZOHO_ADMIN_TOKEN set to use it")
        if request.endpoint == "admin_ui.journal_feed":
            raise AdminError(401, "unauthorized", "log in to the dashboard first")
        return redirect(f"{COOKIE_PATH}/ui/login")
    return None


def check_form_origin() -> None:
    """A form may change state only if this dashboard sent it: the browser says the request is same-origin (a page
    on another port of localhost is same-site, so SameSite is not enough), and it carries a CSRF token this state
    signed that its cookie matches (another page could set a cookie, not sign one)."""
    site, origin = request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin")
    foreign = (site is not None and site not in ("same-origin", "none")) or \
        (origin is not None and origin != f"{request.scheme}://{request.host}")
    sent, kept = request.form.get("csrf", ""), request.cookies.get(CSRF, "")
    if foreign or not kept or not secrets.compare_digest(sent.encode(), kept.encode()) or not signed(kept):
        raise AdminError(403, "csrf", "the form did not come from this dashboard: reload the page")


def csrf_token() -> str:
    """A new CSRF token: a nonce and this state's signature of it."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{signature(nonce)}"


def signed(token: str) -> bool:
    nonce, _, mark = token.partition(".")
    return bool(nonce) and secrets.compare_digest(mark.encode(), signature(nonce).encode())


def signature(nonce: str) -> str:
    state = app_state()
    key = state.shared("ui_secret", lambda: state.store.instance_secret("ui"))
    return hmac.new(key.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A page, with the CSRF token its forms carry (made once per browser, kept in a cookie)."""
    kept = request.cookies.get(CSRF, "")
    token = kept if kept and signed(kept) else csrf_token()
    response = Response(render_template(f"ui/{template}", csrf=token, **values), status=status,
                        content_type="text/html; charset=utf-8")
    response.set_cookie(CSRF, token, path=COOKIE_PATH, httponly=True, samesite="Strict")
    return response


def back(to: str, **query: str) -> Response:
    """After a form: back to a page (a 303, so that a reload does not send the form again)."""
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return redirect(f"{COOKIE_PATH}/ui/{to}{'?' + suffix if suffix else ''}", code=303)


# -- login -------------------------------------------------------------------------------------------

@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if request.method == "GET":
        return page("login.html", needed=bool(app_state().settings.admin_token))
    token = request.form.get("token", "")
    admin = app_state().settings.admin_token
    if not admin or not secrets.compare_digest(token.encode(), admin.encode()):
        return page("login.html", 401, needed=bool(admin), error="that is not the admin token")
    response = back("")
    response.set_cookie(COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Strict")
    return response


# -- overview ----------------------------------------------------------------------------------------

@blueprint.get("/")
def overview() -> Response:
    store = app_state().store
    counts: dict[str, list[tuple[str, str, int, int]]] = {}
    for org, product, module, records, attachments in store.record_counts():
        counts.setdefault(org, []).append((product, module, records, attachments))
    return page("overview.html", orgs=store.org_ids(), counts=counts, now=iso(store.now()),
                frozen=store.clock_frozen(), digest=store.seeded_digest(), message=request.args.get("done"))


@blueprint.post("/reset")
def reset() -> Response:
    org = request.form.get("org") or None
    try:
        app_state().store.reset(org)
    except UnknownOrg:
        raise AdminError(404, "not_found", f"no org {org!r}") from None
    return back("", done=f"reset {org or 'all'}")


@blueprint.post("/clock")
def clock() -> Response:
    seconds = load("AdvanceSchema", {"seconds": request.form.get("seconds")})["seconds"]
    app_state().store.advance_clock(seconds)
    return back("", done=f"clock moved {seconds:g} s")


# -- records -----------------------------------------------------------------------------------------

PAGE = 50


def known_org(org: str) -> None:
    if org not in {i for i, _ in app_state().store.org_ids()}:
        raise AdminError(404, "not_found", f"no org {org!r}")


def module_fields(product: str, module: str) -> ModuleFields:
    """A module's fields as the product's models know them now (custom fields of the fixtures included)."""
    engine = zoho_models(next(p for p in ZOHO_PRODUCTS if p.name == product))
    engine.sync(call().view().generation)
    found = engine.product.module(module)
    if found is None:
        raise AdminError(404, "not_found", f"{product} has no module {module!r}")
    return engine.product.fields(found)


@blueprint.get("/orgs/<org>/<any(crm, bigin):product>/<module>")
def records(org: str, product: str, module: str) -> Response:
    """A module's records of one org, a page at a time; searched as the API's search does, by a word in any text
    field (`word`) or by Zoho criteria (`criteria`)."""
    fields = module_fields(product, module)
    known_org(org)
    number = request.args.get("page", "1")
    page_number = int(number) if number.isascii() and number.isdigit() and 0 < int(number) < 10**6 else 1
    word, criteria = request.args.get("word", "").strip(), request.args.get("criteria", "").strip()
    try:
        where = (criteria_filter(fields, criteria, operators_for(product, "v8")) if criteria
                 else typed_filter(fields, "word", word) if word else None)
    except ZohoError as exc:
        return page("records.html", 400, org=org, product=product, module=module, rows=[], page=1, more=False,
                    word=word, criteria=criteria, problem=f"{exc.code}: {exc.message} {exc.details or ''}")
    rows = app_state().store.list_records(org, product, module, sort_by="id", descending=False,
                                          offset=(page_number - 1) * PAGE, limit=PAGE + 1, where=where)
    return page("records.html", org=org, product=product, module=module, rows=rows[:PAGE], page=page_number,
                more=len(rows) > PAGE, word=word, criteria=criteria)


@blueprint.get("/orgs/<org>/<any(crm, bigin):product>/<module>/<record_id>")
def record(org: str, product: str, module: str, record_id: str) -> Response:
    """One record: its fields, its notes and its attachments."""
    fields = module_fields(product, module)
    store = app_state().store
    found = store.get_records(org, product, module, [record_id]).get(record_id)
    if found is None:
        raise AdminError(404, "not_found", f"no {module} record {record_id} in {org}'s {product}")
    notes = store.list_records(org, product, "Notes", sort_by="id", descending=False, offset=0, limit=200,
                               where=Match("parent_id", "equals", (record_id,)))
    attachments = store.list_attachments(org, product, record_id, 0, 200)
    types = {name: (field.data_type if (field := fields.field(name)) else "?") for name in found.data}
    return page("record.html", org=org, product=product, module=module, record=found, notes=notes,
                attachments=attachments, created=iso(found.created_time), modified=iso(found.modified_time),
                types=types)


@blueprint.get("/orgs/<org>/<any(crm, bigin):product>/<module>/<record_id>/attachments/<attachment_id>")
def attachment(org: str, product: str, module: str, record_id: str, attachment_id: str) -> Response:
    """An attachment's bytes, as stored (`?inline=1` for a preview)."""
    store = app_state().store
    found = store.find_attachment(org, product, record_id, attachment_id)
    answer = None if found is None or found.blob is None else file_response(
        store.blob_source(found.blob), found.content_type, etag=False, conditional=False)
    if answer is None:
        raise AdminError(404, "not_found", f"no stored attachment {attachment_id} on record {record_id}")
    kind = "inline" if request.args.get("inline") else "attachment"
    answer.headers["Content-Disposition"] = f"{kind}; filename*=UTF-8''{quote(found.file_name)}"
    answer.headers["X-Content-Type-Options"] = "nosniff"
    answer.headers["Content-Security-Policy"] = "sandbox"  # a stored HTML file previewed runs nothing
    return answer


# -- journal -----------------------------------------------------------------------------------------

@blueprint.get("/requests")
def journal() -> Response:
    return page("requests.html", filters={k: request.args.get(k, "") for k in ("org", "tag", "status", "code",
                                                                               "path")})


@blueprint.get("/requests.json")
def journal_feed() -> Response:
    """The journal's entries after an id, oldest first, for the page's polling (the cookie opens it); the page's
    empty filter fields are no filters."""
    return admin_response({"requests": journal_entries(*journal_filter({k: v for k, v in request.args.items() if v}))})


# -- faults and stubs ----------------------------------------------------------------------------------

@blueprint.get("/rules")
def rules() -> Response:
    return rules_page()


def rules_page(status: int = 200, **form: Any) -> Response:
    return page("rules.html", status, faults=faults().all(), stubs=[s.listed() for s in stubs().all()],
                orgs=[i for i, _ in app_state().store.org_ids()], **form)


def json_field(name: str) -> Any:
    """A form field that holds JSON (empty: absent); a ValueError names the field."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        value = json.loads(text, parse_constant=not_json)
    except (ValueError, RecursionError):
        raise ValueError(name) from None
    if nesting(value) > MAX_NESTING:
        raise ValueError(name)
    return value


@blueprint.post("/faults")
def add_fault() -> Response:
    match = {k: v for k in ("method", "path", "org") if (v := request.form.get(k))}
    asked: dict[str, Any] = {"match": match, "respond": {"code": request.form.get("code", "")}}
    if request.form.get("times"):
        asked["times"] = request.form["times"]
    spec, errors = form_spec(fault_spec, asked, "match.path")
    if spec is None:
        return rules_page(400, fault_errors=errors, fault_form=request.form)
    faults().add(spec)
    return back("rules")


@blueprint.post("/stubs")
def add_stub() -> Response:
    match = {k: v for k in ("method", "path") if (v := request.form.get(k))}
    respond: dict[str, Any] = {}
    try:
        if request.form.get("status"):
            respond["status"] = request.form["status"]
        body = json_field("json")
        if body is not None:
            respond["json"] = body
    except ValueError as exc:
        return rules_page(400, stub_errors={f"respond.{exc}": f"not valid JSON (or deeper than {MAX_NESTING} levels)"},
                          stub_form=request.form)
    asked = {"match": match, "respond": respond, "org": request.form.get("org") or None,
             "times": request.form.get("times") or None}
    spec, errors = form_spec(stub_spec, asked, "org")
    if spec is not None and not match:  # a stub that matches every call is an accident in a form
        spec, errors = None, {"match.path": "give a path or a method"}
    if spec is None:
        return rules_page(400, stub_errors=errors, stub_form=request.form)
    stubs().add(spec)
    return back("rules")


@blueprint.post(f"/faults/<int(max={LARGEST_INTEGER}):fault_id>/delete")
def delete_fault(fault_id: int) -> Response:
    faults().remove(fault_id)
    return back("rules")


@blueprint.post(f"/stubs/<int(max={LARGEST_INTEGER}):stub_id>/delete")
def delete_stub(stub_id: int) -> Response:
    stubs().remove(stub_id)
    return back("rules")


def form_spec(check: Callable[[Any], dict[str, Any]], asked: dict[str, Any],
              where: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """What a form built, through the control API's own check: the spec it takes, or None and the problems by
    form field (a problem of the whole, such as an org there is not, shown at `where`)."""
    try:
        return check(asked), {}
    except AdminError as exc:
        return None, problem_places(exc.details if isinstance(exc.details, dict) else {where: [exc.message]})


# -- tokens --------------------------------------------------------------------------------------------

@blueprint.route("/tokens", methods=["GET", "POST"])
def tokens() -> Response:
    if request.method == "GET":
        return page("tokens.html")
    asked = {"org": request.form.get("org", ""), "user": request.form.get("user", ""),
             "scopes": request.form.get("scopes", "")}
    spec, errors = form_spec(lambda body: load("TokenSchema", body), asked, "_schema")
    if spec is None:
        return page("tokens.html", 400, errors=errors, form=request.form)
    try:
        return page("tokens.html", minted=minted(spec), form=request.form)
    except AdminError as exc:  # no such user in the org
        return page("tokens.html", 404, errors={"user": exc.message}, form=request.form)
