"""How the control API reports errors: `{"error": "<kind>", "message": "...", "details": ...}`."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..core.errors import ApiError
from ..core.responses import json_response

# Its answers carry Zoho's content type (as they always have); its errors plain JSON.
CONTENT_TYPE = "application/json;charset=utf-8"


class AdminError(ApiError):
    """A control-API error with its HTTP status."""

    def __init__(self, status: int, error: str, message: str, details: Any = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status, self.error, self.message, self.details = status, error, message, details
        self.headers = headers or {}
        super().__init__(message)

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        response = json_response(body, self.status, "application/json")
        response.headers.update(self.headers)
        return response

    @classmethod
    def from_http(cls, exc: HTTPException) -> AdminError:
        status = exc.code or 400
        # A 405 says which methods the URL takes (RFC 9110 requires it).
        allowed = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
        return cls(status, "not_found" if status == 404 else "invalid_request", str(exc),
                   headers={"Allow": ", ".join(sorted(allowed))} if allowed else None)

    @classmethod
    def internal(cls) -> AdminError:
        return cls(500, "internal_error", "unexpected error")


def admin_response(payload: Any, status: int = 200) -> Response:
    """A control-API answer."""
    return json_response(payload, status, CONTENT_TYPE)
