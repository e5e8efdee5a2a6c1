"""How the control API reports errors: `{"error": "<kind>", "message": "...", "details": ...}`."""

from __future__ import annotations

from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from ..core.errors import ApiError
from ..core.responses import json_response

# Its answers carry Zoho's content type (as they always have); its errors plain JSON.
CONTENT_TYPE = "application/json;charset=utf-8"


class AdminError(ApiError):
    """A control-API error with its HTTP status."""

    def __init__(self, status: int, error: str, message: str, details: Any = None) -> None:
        self.status, self.error, self.message, self.details = status, error, message, details
        super().__init__(message)

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return json_response(body, self.status, "application/json")

    @classmethod
    def from_http(cls, exc: HTTPException) -> AdminError:
        status = exc.code or 400
        return cls(status, "not_found" if status == 404 else "invalid_request", str(exc))

    @classmethod
    def internal(cls) -> AdminError:
        return cls(500, "internal_error", "unexpected error")


def admin_response(payload: Any, status: int = 200) -> Response:
    """A control-API answer."""
    return json_response(payload, status, CONTENT_TYPE)
