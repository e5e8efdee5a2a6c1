"""How the accounts server reports errors: `{"error": "<code>"}`, usually with HTTP 200."""

from __future__ import annotations

from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from ..core.errors import ApiError
from ..core.responses import json_response

CONTENT_TYPE = "application/json;charset=UTF-8"


class OAuthError(ApiError):
    """An accounts-server error, e.g. `invalid_client`; Zoho answers most of them with HTTP 200."""

    def __init__(self, error: str, status: int = 200) -> None:
        self.error = error
        self.status = status
        super().__init__(error)

    def response(self) -> Response:
        return accounts_response({"error": self.error}, self.status)

    @classmethod
    def from_http(cls, exc: HTTPException) -> OAuthError:
        return cls("invalid_request", exc.code or 400)

    @classmethod
    def internal(cls) -> OAuthError:
        return cls("server_error", 500)

    @classmethod
    def from_code(cls, code: str) -> OAuthError:
        return cls(code.lower())


def accounts_response(payload: dict[str, Any], status: int = 200) -> Response:
    """An accounts-server answer, with its content type."""
    return json_response(payload, status, CONTENT_TYPE)
