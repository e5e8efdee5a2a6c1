"""The blueprint factory shared by CRM and Bigin: URLs, parameters and answers (no SQL here)."""

from __future__ import annotations

import time
from typing import Callable

from flask import Blueprint, Response, request

from ..config import Settings
from ..store import Store
from .actions import DELETE_ATTACHMENT, DELETE_RECORD
from .auth import Principal, authenticate
from .datacentres import data_centre_for_host
from .errors import ZohoError, json_response, success_entry
from .models import ZohoModels, parse_ids
from .product import Product

BOOLEANS = {"true": True, "false": False}


def make_blueprint(product: Product, store: Store, settings: Settings) -> Blueprint:
    """The blueprint serving `product` under its prefix, for every version it has."""
    models = ZohoModels(store, product)
    bp = Blueprint(product.name, __name__, url_prefix=product.prefix)
    version = "/<any({}):version>".format(", ".join(repr(v) for v in product.versions))

    def route(rule: str, *methods: str) -> Callable:
        # OPTIONS too must answer INVALID_REQUEST_METHOD, so Flask must not answer it by itself.
        return bp.route(version + rule, methods=list(methods), provide_automatic_options=False)

    def principal() -> Principal:
        data_centre = data_centre_for_host(request.host, settings.default_dc)
        return authenticate(request.authorization, data_centre, store, time.time())

    def bulk_answer(version: str, ids: list[str], errors: list[ZohoError | None]) -> Response:
        failed = sum(e is not None for e in errors)
        data = [success_entry(i) if e is None else e.body() for i, e in zip(ids, errors)]
        return json_response({"data": data}, product.bulk_status(version, len(ids) - failed, failed))

    def check_wf_trigger() -> None:
        value = request.args.get("wf_trigger")
        if value is not None and value.lower() not in BOOLEANS:
            raise ZohoError("UNABLE_TO_PARSE_DATA_TYPE", details={"param_name": "wf_trigger"})

    @route("/<module>/<record_id>/Attachments/<attachment_id>", "DELETE")
    def delete_attachment(version: str, module: str, record_id: str, attachment_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DELETE_ATTACHMENT)
        models.require_record(caller, found, record_id, DELETE_ATTACHMENT)
        models.delete_attachment(caller, record_id, attachment_id)
        return json_response({"data": [success_entry(attachment_id)]})

    @route("/<module>/<record_id>/Attachments", "DELETE")
    def delete_attachments(version: str, module: str, record_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DELETE_ATTACHMENT)
        ids = parse_ids(request.args.getlist("ids"))
        models.require_record(caller, found, record_id, DELETE_ATTACHMENT)
        return bulk_answer(version, ids, models.delete_attachments(caller, record_id, ids))

    @route("/<module>/<record_id>", "DELETE")
    def delete_record(version: str, module: str, record_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DELETE_RECORD)
        check_wf_trigger()
        models.delete_record(caller, found, record_id, DELETE_RECORD)
        return json_response({"data": [success_entry(record_id)]})

    @route("/<module>", "DELETE")
    def delete_records(version: str, module: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DELETE_RECORD)
        ids = parse_ids(request.args.getlist("ids"))
        check_wf_trigger()
        return bulk_answer(version, ids, models.delete_records(caller, found, ids, DELETE_RECORD))

    return bp
