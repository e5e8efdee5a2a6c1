"""How the control API reports errors: `{"error": "<kind>", "message": "...", "details": ...}`."""

from __future__ import annotations

from typing import Any

from flask import Response

from ..zoho.errors import json_response


class AdminError(Exception):
    """A control-API error with its HTTP status."""

    def __init__(self, status: int, error: str, message: str, details: Any = None) -> None:
        self.status, self.error, self.message, self.details = status, error, message, details
        super().__init__(message)

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return json_response(body, self.status, "application/json")
