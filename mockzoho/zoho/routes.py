"""The blueprint factory shared by CRM and Bigin: URLs, parameters and answers (no SQL here)."""

from __future__ import annotations

from typing import Callable

from urllib.parse import quote

from flask import Blueprint, Response, g, request, send_file

from ..config import Settings
from ..store import Store
from ..ticks import request_tick
from .actions import DELETE_ATTACHMENT, DELETE_RECORD, DOWNLOAD_ATTACHMENT, LIST_ATTACHMENTS, UPLOAD_ATTACHMENT
from .auth import Principal, authenticate
from .datacentres import data_centre_for_host
from .errors import ATTACHMENT_UPLOADED, CONTENT_TYPE, ZohoError, json_response, success_entry
from .models import READ, Download, Upload, ZohoModels, parse_fields, parse_ids
from .paging import parse_page
from .product import Product

BOOLEANS = {"true": True, "false": False}
FORM_OVERHEAD = 1 << 20  # multipart boundaries, part headers and small fields around the file
ZEROS = bytes(1 << 16)


def no_content() -> Response:
    """204 with no body; real 204s still carry the JSON content type."""
    return Response(status=204, content_type=CONTENT_TYPE)


def content_disposition(file_name: str) -> str:
    """`attachment;filename*=UTF-8''<percent-encoded name>`."""
    return "attachment;filename*=UTF-8''" + quote(file_name, safe="")


def download_response(download: Download) -> Response:
    """The attachment's bytes, streamed (with ranges and conditional requests for stored blobs)."""
    if download.path is not None:
        try:
            response = send_file(download.path, mimetype=download.content_type, etag=download.etag,
                                 conditional=True, max_age=None)
        except FileNotFoundError:  # deleted by another request since it was looked up
            return no_content()
    else:
        def zeros(left: int = download.size):
            while left > 0:
                yield ZEROS[:min(left, len(ZEROS))]
                left -= len(ZEROS)
        response = Response(zeros(), mimetype=download.content_type, headers={"Content-Length": str(download.size)})
    response.headers["Content-Type"] = download.content_type  # as stored, without an added charset
    response.headers["Content-Disposition"] = content_disposition(download.file_name)
    return response


def make_blueprint(product: Product, store: Store, settings: Settings) -> Blueprint:
    """The blueprint serving `product` under its prefix, for every version it has."""
    models = ZohoModels(store, product)
    bp = Blueprint(product.name, __name__, url_prefix=product.prefix)
    version = "/<any({}):version>".format(", ".join(repr(v) for v in product.versions))

    def route(rule: str, *methods: str) -> Callable:
        return bp.route(version + rule, methods=list(methods))

    def principal() -> Principal:
        tick = request_tick(store)
        models.sync(tick.generation)
        data_centre = data_centre_for_host(request.host, settings.default_dc)
        caller = authenticate(request.authorization, data_centre, store, tick.now, tick.credentials)
        g.org = caller.org  # for the journal
        return caller

    def bulk_answer(version: str, ids: list[str], errors: list[ZohoError | None]) -> Response:
        failed = sum(e is not None for e in errors)
        data = [success_entry(i) if e is None else e.body() for i, e in zip(ids, errors)]
        return json_response({"data": data}, product.bulk_status(version, len(ids) - failed, failed))

    def check_wf_trigger() -> None:
        value = request.args.get("wf_trigger")
        if value is not None and value.lower() not in BOOLEANS:
            raise ZohoError("UNABLE_TO_PARSE_DATA_TYPE", details={"param_name": "wf_trigger"})

    @route("/users", "GET")
    def users(version: str) -> Response:
        caller = principal()
        models.require_scope(caller, ("users",), READ)
        return json_response(models.users(caller, request.args.get("type", "AllUsers")))

    @route("/org", "GET")
    def org(version: str) -> Response:
        caller = principal()
        models.require_scope(caller, ("org",), READ)
        return json_response(models.org(caller))

    @route("/settings/modules", "GET")
    def modules(version: str) -> Response:
        models.require_scope(principal(), ("settings", "settings.modules"), READ)
        return json_response(models.modules())

    @route("/<module>/<record_id>/Attachments", "GET")
    def list_attachments(version: str, module: str, record_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, LIST_ATTACHMENTS)
        fields = parse_fields(request.args.get("fields"), version in product.fields_required_versions)
        now = int(request_tick(store).now)
        token = request.args.get("page_token") if version in product.page_token_versions else None
        page = parse_page(request.args.get("page"), request.args.get("per_page"), token,
                          f"{caller.org}/{product.name}/{record_id}", now)
        models.require_record(caller, found, record_id, LIST_ATTACHMENTS)
        listing = models.list_attachments(caller, record_id, version, fields, page, now)
        return no_content() if listing is None else json_response(listing)

    @route("/<module>/<record_id>/Attachments/<attachment_id>", "GET")
    def download_attachment(version: str, module: str, record_id: str, attachment_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DOWNLOAD_ATTACHMENT)
        models.require_record(caller, found, record_id, DOWNLOAD_ATTACHMENT)
        download = models.open_download(caller, record_id, attachment_id)
        return no_content() if download is None else download_response(download)

    @route("/<module>/<record_id>/Attachments", "POST")
    def upload_attachment(version: str, module: str, record_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, UPLOAD_ATTACHMENT)
        models.require_record(caller, found, record_id, UPLOAD_ATTACHMENT)
        # Checked by werkzeug against Content-Length up front, and while reading a chunked body.
        request.max_content_length = settings.max_upload_bytes + FORM_OVERHEAD
        files = [Upload(f.filename or "", f.mimetype or None, f.stream) for f in request.files.getlist("file")]
        details = models.upload(caller, record_id, files, request.values.get("attachmentUrl"),
                                request.values.get("title"), settings.max_upload_bytes, int(request_tick(store).now))
        return json_response({"data": [{"code": "SUCCESS", "details": details, "message": ATTACHMENT_UPLOADED,
                                        "status": "success"}]})

    @route("/<module>/<record_id>/Attachments/<attachment_id>", "DELETE")
    def delete_attachment(version: str, module: str, record_id: str, attachment_id: str) -> Response:
        caller = principal()
        found = models.authorize(caller, module, DELETE_ATTACHMENT)
        models.delete_attachment(caller, found, record_id, attachment_id, DELETE_ATTACHMENT)
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
