"""How the accounts server reports errors: `{"error": "<code>"}`, usually with HTTP 200."""

from __future__ import annotations

from flask import Response

from ..zoho.errors import json_response

CONTENT_TYPE = "application/json;charset=UTF-8"


class OAuthError(Exception):
    """An accounts-server error, e.g. `invalid_client`; Zoho answers most of them with HTTP 200."""

    def __init__(self, error: str, status: int = 200) -> None:
        self.error = error
        self.status = status
        super().__init__(error)

    def response(self) -> Response:
        return json_response({"error": self.error}, self.status, CONTENT_TYPE)
