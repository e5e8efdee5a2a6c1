"""CRM's and Bigin's routes: users, org, modules, attachments and deletes (URLs, parameters, answers; no SQL)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request

from ..core.context import app_state, state_view
from ..core.responses import file_response
from .actions import DELETE_ATTACHMENT, DELETE_RECORD, DOWNLOAD_ATTACHMENT, LIST_ATTACHMENTS, UPLOAD_ATTACHMENT
from .calls import blueprint, bulk_answer, check_wf_trigger, models, principal
from .errors import ATTACHMENT_UPLOADED, CONTENT_TYPE, success_entry, zoho_response
from .models import READ, Download, Upload, parse_ids
from .record_models import parse_fields
from .paging import parse_page
from .product import Product

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
    if download.source is not None:
        stored = file_response(download.source, download.content_type, download.etag, conditional=True)
        if stored is None:
            return no_content()
        response = stored
    else:
        def zeros(left: int = download.size):
            while left > 0:
                yield ZEROS[:min(left, len(ZEROS))]
                left -= len(ZEROS)
        response = Response(zeros(), mimetype=download.content_type, headers={"Content-Length": str(download.size)})
    response.headers["Content-Type"] = download.content_type  # as stored, without an added charset
    response.headers["Content-Disposition"] = content_disposition(download.file_name)
    return response


@blueprint.get("/users")
def users(product: Product, version: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    engine.require_scope(caller, ("users",), READ)
    return zoho_response(engine.users(caller, request.args.get("type", "AllUsers")))


@blueprint.get("/<module>/<record_id>/Attachments")
def list_attachments(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, LIST_ATTACHMENTS)
    fields = parse_fields(request.args.get("fields"), version in product.fields_required_versions)
    now = int(state_view().now)
    token = request.args.get("page_token") if version in product.page_token_versions else None
    page = parse_page(request.args.get("page"), request.args.get("per_page"), token,
                      f"{caller.org}/{product.name}/{record_id}", now)
    engine.require_record(caller, found, record_id, LIST_ATTACHMENTS)
    listing = engine.list_attachments(caller, record_id, version, fields, page, now)
    return no_content() if listing is None else zoho_response(listing)


@blueprint.get("/<module>/<record_id>/Attachments/<attachment_id>")
def download_attachment(product: Product, version: str, module: str, record_id: str, attachment_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, DOWNLOAD_ATTACHMENT)
    engine.require_record(caller, found, record_id, DOWNLOAD_ATTACHMENT)
    download = engine.open_download(caller, record_id, attachment_id)
    return no_content() if download is None else download_response(download)


@blueprint.post("/<module>/<record_id>/Attachments")
def upload_attachment(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, UPLOAD_ATTACHMENT)
    engine.require_record(caller, found, record_id, UPLOAD_ATTACHMENT)
    limit = app_state().settings.max_upload_bytes
    # Checked by werkzeug against Content-Length up front, and while reading a chunked body.
    request.max_content_length = limit + FORM_OVERHEAD
    files = [Upload(f.filename or "", f.mimetype or None, f.stream) for f in request.files.getlist("file")]
    details = engine.upload(caller, record_id, files, request.values.get("attachmentUrl"),
                           request.values.get("title"), limit, int(state_view().now))
    return zoho_response({"data": [{"code": "SUCCESS", "details": details, "message": ATTACHMENT_UPLOADED,
                                    "status": "success"}]})


@blueprint.delete("/<module>/<record_id>/Attachments/<attachment_id>")
def delete_attachment(product: Product, version: str, module: str, record_id: str, attachment_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, DELETE_ATTACHMENT)
    engine.delete_attachment(caller, found, record_id, attachment_id, DELETE_ATTACHMENT)
    return zoho_response({"data": [success_entry(attachment_id)]})


@blueprint.delete("/<module>/<record_id>/Attachments")
def delete_attachments(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, DELETE_ATTACHMENT)
    ids = parse_ids(request.args.getlist("ids"))
    engine.require_record(caller, found, record_id, DELETE_ATTACHMENT)
    return bulk_answer(product, version, ids, engine.delete_attachments(caller, record_id, ids))


@blueprint.delete("/<module>/<record_id>")
def delete_record(product: Product, version: str, module: str, record_id: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, DELETE_RECORD)
    check_wf_trigger()
    engine.delete_record(caller, found, record_id, DELETE_RECORD)
    return zoho_response({"data": [success_entry(record_id)]})


@blueprint.delete("/<module>")
def delete_records(product: Product, version: str, module: str) -> Response:
    engine = models(product)
    caller = principal(engine)
    found = engine.authorize(caller, module, DELETE_RECORD)
    ids = parse_ids(request.args.getlist("ids"))
    check_wf_trigger()
    return bulk_answer(product, version, ids, engine.delete_records(caller, found, ids, DELETE_RECORD))
