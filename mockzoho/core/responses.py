"""JSON answers in a given key order, and the code they carry for the journal."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, BinaryIO

from flask import Response, has_request_context, request
from werkzeug.utils import send_file as werkzeug_send_file

from .context import call


def answer_code(payload: Any) -> str | None:
    """The code an answer carries (for the journal): an error's code, an OAuth error, the first data entry's."""
    if not isinstance(payload, dict):
        return None
    for key in ("code", "error"):
        if isinstance(payload.get(key), str):
            return payload[key]
    data = payload.get("data")
    return data[0].get("code") if isinstance(data, list) and data and isinstance(data[0], dict) else None


def json_response(payload: Any, status: int, content_type: str, ascii_only: bool = False) -> Response:
    """Compact JSON, keys in the order given (as the real APIs send them), noting its code for the journal;
    `ascii_only` escapes every other character (the mock's Cosmos DB errors have always been ASCII)."""
    if has_request_context():
        call().api_code = answer_code(payload)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=ascii_only)
    return Response(body, status=status, content_type=content_type)


def file_response(source: Path | BinaryIO | None, content_type: str, etag: str | bool,
                  conditional: bool) -> Response | None:
    """A stored blob (a file, or a seekable reader of its bytes), streamed with its content type exactly as stored
    (no charset added) and no Content-Disposition (a family adds its own); None if it is gone, deleted since it
    was looked up."""
    if source is None:
        return None
    environ = request.environ
    if "HTTP_RANGE" in environ:  # gunicorn's file wrapper cannot seek: werkzeug would read and drop every byte
        environ = {key: value for key, value in environ.items() if key != "wsgi.file_wrapper"}  # before the range
    try:
        if isinstance(source, Path):
            response = werkzeug_send_file(source, environ, mimetype=content_type, etag=etag,
                                          conditional=conditional, max_age=None, response_class=Response)
        else:
            response = _reader_response(source, environ, content_type, etag, conditional)
    except FileNotFoundError:
        return None
    response.headers["Content-Type"] = content_type
    response.headers.pop("Content-Disposition", None)
    return response


def _reader_response(source: BinaryIO, environ: dict[str, Any], content_type: str, etag: str | bool,
                     conditional: bool) -> Response:
    """A seekable reader's answer: werkzeug sizes only files and BytesIO, so the size is found by seeking."""
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    response = werkzeug_send_file(source, environ, mimetype=content_type, etag=etag, conditional=False,
                                  max_age=None, response_class=Response)
    response.content_length = size
    if conditional:
        response = response.make_conditional(environ, accept_ranges=True, complete_length=size)
    return response
