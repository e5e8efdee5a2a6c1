"""A call's journal entry: the request as it came (credentials shortened), its answer, and what gave it."""

from __future__ import annotations

import time
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Request, Response, request
from werkzeug.exceptions import HTTPException

from ..core.context import Call
from ..store import LARGEST_INTEGER
from .access_log import log_call
from .redaction import FORM_SECRETS, secrets_in_json_text, secrets_in_url, shortened

PREVIEW_BYTES = 256
PREVIEWED_BODY = 64 * 1024  # bodies up to this size that no route read are read for the preview
UNMATCHED_HEADER = "X-Mockzoho-Unmatched"
NO_BODY = (204, 304)  # answers sent without their body, as HEAD's are


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
            value = f"{scheme} {shortened(secret)}" if secret else shortened(value)
        shown[name] = value
    return shown


def body_preview(req: Request) -> str:
    """The start of the body as the route left it: file names of an upload, form fields (secrets shortened),
    or the bytes themselves when the route read them whole (or not at all)."""
    if not req.content_length and "CHUNKED" not in req.environ.get("HTTP_TRANSFER_ENCODING", "").upper():
        return ""
    if "files" in req.__dict__ and req.files:
        return " ".join(f"{name}={f.filename}" for name, f in req.files.items(multi=True))
    if "form" in req.__dict__ and req.form:
        fields = [(k, shortened(v) if k in FORM_SECRETS else v) for k, v in req.form.items(multi=True)]
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


def answer_preview(response: Response | None, method: str) -> tuple[int, str]:
    """The size of the body an answer sends and its start, secrets shortened (a streamed file: its size alone;
    HEAD, 204 and 304: nothing, as nothing is sent)."""
    if response is None or method == "HEAD" or response.status_code in NO_BODY:
        return 0, ""
    if response.is_streamed or response.direct_passthrough:
        return response.content_length or 0, ""
    data = response.get_data()
    if b"token" not in data and b"secret" not in data:  # most answers: nothing to shorten
        return len(data), data[:PREVIEW_BYTES].decode("utf-8", "replace")
    text = data[:PREVIEW_BYTES * 16].decode("utf-8", "replace")  # room for the secrets to be found whole
    return len(data), secrets_in_json_text(text)[:PREVIEW_BYTES]


def answer_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """An answer's headers for the journal, a redirect's grant code and cookies shortened."""
    shown = {}
    for name, value in headers.items():
        if name.lower() == "location":
            value = secrets_in_url(value)
        elif name.lower() == "set-cookie":
            value = shortened(value)
        shown[name] = value
    return shown


def record(current: Call, response: Response | None, org: str | None) -> None:
    """Journal this call with its answer (None: a dropped connection, which has none), under `org`."""
    req = request._get_current_object()  # proxies cost: resolve once
    environ = req.environ
    size, preview = answer_preview(response, req.method)
    entry = {
        "time": current.view().now, "method": req.method, "path": req.path,
        "query": environ.get("QUERY_STRING", ""), "headers": redacted(environ),
        "body_size": min(req.content_length or 0, LARGEST_INTEGER), "body_preview": body_preview(req),
        "status": 0 if response is None else response.status_code,
        "code": "DROPPED" if response is None else current.api_code,
        "duration_ms": round((time.perf_counter() - current.started) * 1000, 3),
        "org": org, "tag": environ.get("HTTP_X_MOCKZOHO_TAG"), "product": journaled_product(current),
        "response_headers": {} if response is None else answer_headers(response.headers),
        "response_size": size, "response_preview": preview,
        "matched": current.matched, "unmatched": bool(response is not None and UNMATCHED_HEADER in response.headers)}
    current.state.store.journal.record(entry)
    log_call(entry)
    current.recorded = True
