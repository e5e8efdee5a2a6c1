"""CRM's and Bigin's record routes: list, get, insert, update, upsert, related lists and notes on a record (URLs,
parameters, bodies; no SQL)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, request

from ..core.context import state_view
from ..core.strict_json import not_json
from ..nesting import MAX_NESTING, nesting
from ..store.search import Match
from .actions import CREATE_RECORDS, READ_RECORDS, UPDATE_RECORDS, UPSERT_RECORDS, Action
from .calls import blueprint, models, principal
from .errors import ZohoError, zoho_response
from .models import parse_ids
from .paging import parse_page
from .product import Product
from .record_models import Listing, parse_field_names, parse_sort
from .routes import no_content
from .search import SEARCH_PARAMS, criteria_filter, operators_for, typed_filter

MAX_BODY = 8 << 20  # a hundred records with long text fields, and room to spare
SEARCH_LIMIT = 2000  # records a search reaches through its pages


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def strict_json(raw: bytes) -> Any:
    """JSON as Zoho's parser reads it: no NaN or Infinity literals, no key twice in an object, no lone surrogate
    (Python's json takes all three, and would store a value no answer could encode)."""
    text = raw.decode("utf-8")
    body = json.loads(text, parse_constant=not_json, object_pairs_hook=_unique_keys)
    json.dumps(body, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return body


def object_body(limit: int) -> dict[str, Any]:
    """The request's body as a JSON object of at most `limit` bytes; UNABLE_TO_PARSE_DATA_TYPE if it is not one."""
    request.max_content_length = limit
    raw = request.get_data()
    try:
        body = strict_json(raw) if raw else None
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict) or nesting(body) > MAX_NESTING:
        raise ZohoError("UNABLE_TO_PARSE_DATA_TYPE", details={"param_name": "body"} if raw else {})
    return body


def write_body() -> tuple[list[Any], dict[str, Any]]:
    """The `data` array of a write and the whole body; Zoho's errors for a body that is not one."""
    body = object_body(MAX_BODY)
    if "data" not in body:
        raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "data"})
    data = body["data"]
    if not isinstance(data, list):
        raise ZohoError("INVALID_DATA", details={"expected_data_type": "jsonarray", "api_name": "data"})
    if not data:
        raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "data"})
    for key in ("trigger", "duplicate_check_fields"):
        if key in body and not (isinstance(body[key], list) and all(isinstance(v, str) for v in body[key])):
            raise ZohoError("INVALID_DATA", details={"expected_data_type": "jsonarray", "api_name": key})
    return data, body


def modified_since() -> int | None:
    """`If-Modified-Since` as Zoho takes it (ISO 8601 with an offset), or as an HTTP date."""
    value = request.headers.get("If-Modified-Since")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = request.if_modified_since  # type: ignore[assignment]
    if moment is None or moment.tzinfo is None:
        raise ZohoError("INVALID_DATA", details={"param_name": "If-Modified-Since"})
    return int(moment.timestamp())


def listing(product: Product, version: str, org: str, module: str, now: int, fields_required: bool) -> Listing:
    """A listing's parameters: fields, page (or v8 page token), sort order, ids and If-Modified-Since."""
    args = request.args
    fields = parse_field_names(args.get("fields"), fields_required)
    sort_by, descending = parse_sort(args.get("sort_by"), args.get("sort_order"))
    scope = f"{org}/{product.name}/{module.lower()}/{sort_by}/{int(descending)}"
    token = args.get("page_token") if version in product.page_token_versions else None
    # Zoho's legacy v2 SDK asks for `page=0` unless told otherwise: a record listing reads it as the first page.
    number = None if args.get("page") == "0" else args.get("page")
    page = parse_page(number, args.get("per_page"), token, scope, now)
    ids = tuple(parse_ids(args.getlist("ids"))) if args.get("ids") is not None else ()
    return Listing(fields, page, sort_by, descending, ids, modified_since(),
                   scope if version in product.page_token_versions else None, token is not None)


@blueprint.get("/<module>")
def list_records(product: Product, version: str, module: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, READ_RECORDS)
    now = int(state_view().now)
    asked = listing(product, version, caller.org, found.api_name, now, version in product.modern_versions)
    page = engine.records_page(caller, found, version, asked, now)
    if page is None:
        return Response(status=304) if asked.modified_since is not None else no_content()
    return zoho_response(page)


@blueprint.get("/<module>/<record_id>")
def get_record(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, READ_RECORDS)
    fields = parse_field_names(request.args.get("fields"), False)
    record = engine.get_record(caller, found, version, record_id, READ_RECORDS, fields)
    return no_content() if record is None else zoho_response(record)


def write(product: Product, version: str, module: str, action: Action, mode: str,
          target: str | None = None) -> Response:
    """An insert, update or upsert call: the module and the caller checked, then the body, record by record."""
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, action)
    data, body = write_body()
    entries, status = engine.write_records(
        caller, found, version, data if target is None else data[:1], int(state_view().now), mode=mode,
        target=target, duplicate_check=body.get("duplicate_check_fields") if mode == "upsert" else None)
    return zoho_response({"data": entries}, status)


@blueprint.post("/<module>")
def insert_records(product: Product, version: str, module: str) -> Response:
    return write(product, version, module, CREATE_RECORDS, "insert")


@blueprint.put("/<module>")
def update_records(product: Product, version: str, module: str) -> Response:
    return write(product, version, module, UPDATE_RECORDS, "update")


@blueprint.put("/<module>/<record_id>")
def update_record(product: Product, version: str, module: str, record_id: str) -> Response:
    return write(product, version, module, UPDATE_RECORDS, "update", target=record_id)


@blueprint.post("/<module>/upsert")
def upsert_records(product: Product, version: str, module: str) -> Response:
    return write(product, version, module, UPSERT_RECORDS, "upsert")


@blueprint.get("/<module>/search")
def search_records(product: Product, version: str, module: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, READ_RECORDS)
    kind, text = next(((k, request.args[k]) for k in SEARCH_PARAMS if request.args.get(k, "").strip()), (None, ""))
    if kind is None:
        raise ZohoError("EXPECTED_PARAM_MISSING", details={"param_names": list(SEARCH_PARAMS)})
    fields = product.fields(found)
    tree = (criteria_filter(fields, text, operators_for(product.name, version)) if kind == "criteria"
            else typed_filter(fields, kind, text))
    now = int(state_view().now)
    asked = listing(product, version, caller.org, f"{found.api_name}/search/{kind}/{text}", now, False)
    if asked.page.page * asked.page.per_page > SEARCH_LIMIT:
        raise ZohoError("LIMIT_EXCEEDED", details={"limit": SEARCH_LIMIT, "param_name": "page"})
    page = engine.records_page(caller, found, version, asked, now, tree)
    return no_content() if page is None else zoho_response(page)


@blueprint.get("/<module>/<record_id>/<related_list>")
def related_records(product: Product, version: str, module: str, record_id: str, related_list: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, READ_RECORDS)
    related, target = engine.related_list(caller, found, related_list)
    now = int(state_view().now)
    asked = listing(product, version, caller.org, f"{found.api_name}/{record_id}/{related.api_name}", now,
                    version in product.modern_versions)
    engine.require_record(caller, found, record_id, READ_RECORDS)
    page = engine.records_page(caller, target, version, asked, now,
                               Match((related.field or "").lower(), "equals", (record_id,)))
    return no_content() if page is None else zoho_response(page)


@blueprint.post("/<module>/<record_id>/Notes")
def add_notes(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, READ_RECORDS)
    notes = engine.authorize(caller, "Notes", CREATE_RECORDS)
    data, _ = write_body()
    engine.require_record(caller, found, record_id, CREATE_RECORDS)
    # A note on a record: its parent is the URL's record, whatever the body says.
    items = [{**item, "Parent_Id": {"id": record_id}, "$se_module": found.api_name} if isinstance(item, dict)
             else item for item in data]
    entries, status = engine.write_records(caller, notes, version, items, int(state_view().now), mode="insert")
    return zoho_response({"data": entries}, status)
