"""A raw WSGI callable under the same gunicorn settings: what gunicorn's worker costs without Flask."""

from __future__ import annotations

from typing import Any, Callable, Iterable

BODY = b'{"data":[{"code":"SUCCESS","details":{"id":"1"},"message":"record deleted","status":"success"}]}'
HEADERS = [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]
