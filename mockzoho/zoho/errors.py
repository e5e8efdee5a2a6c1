"""The Zoho error catalogue and the JSON envelope every Zoho answer is written in."""

from __future__ import annotations

from typing import Any

from flask import Response

from ..core.errors import CatalogueError
from ..core.responses import json_response

CONTENT_TYPE = "application/json;charset=utf-8"

# code -> (HTTP status, message), as Zoho's API docs and its SDKs' samples give them.
CATALOGUE: dict[str, tuple[int, str]] = {
    "AUTHENTICATION_FAILURE": (401, "Authentication failed"),
    "INVALID_TOKEN": (401, "invalid oauth token"),
    "OAUTH_SCOPE_MISMATCH": (401, "invalid oauth scope to access this URL"),
    "INVALID_MODULE": (400, "the module name given seems to be invalid"),
    "NO_PERMISSION": (403, "permission denied"),
    "AUTHORIZATION_FAILED": (400, "User does not have sufficient privilege to perform this action"),
    "INVALID_DATA": (400, "invalid data"),
    "INVALID_REQUEST_METHOD": (400, "The http request method type is not a valid one"),
    "INVALID_URL_PATTERN": (404, "Please check if the URL trying to access is a correct one"),
    "REQUIRED_PARAM_MISSING": (400, "One of the expected parameter is missing"),
    "EXPECTED_PARAM_MISSING": (400, "One of the expected parameter is missing"),
    "LIMIT_EXCEEDED": (400, "max records limit exceeded"),
    "UNABLE_TO_PARSE_DATA_TYPE": (400, "either the request body or parameters is in wrong format"),
    "DUPLICATE_DATA": (400, "duplicate data"),
    "MANDATORY_NOT_FOUND": (400, "required field not found"),
    "DISCRETE_PAGINATION_LIMIT_EXCEEDED": (400, "You can only get the first 2000 records without using page_token "
                                                "param"),
    "INVALID_QUERY": (400, "Invalid query formed"),
    "SYNTAX_ERROR": (400, "error occured while parsing the query"),  # sic, as Zoho spells it
    "INVALID_ALIAS": (400, "alias name cannot be an empty string"),
    "DUPLICATE_ALIAS": (400, "same alias cannot refer more than one column"),
    "CRITERIA_LIMIT_EXCEEDED": (400, "no of criterium that can be given exceed the limit 10"),
    "FILE_SIZE_MORE_THAN_ALLOWED_SIZE": (413, "Please check if the size of the file is in the correct range"),
    "INTERNAL_ERROR": (500, "Internal Server Error"),
    "TOO_MANY_REQUESTS": (429, "Number of API requests for the 24 hour period is exceeded or the concurrency "
                               "limit of the user for the app is exceeded."),
}

MODULE_NOT_SUPPORTED = "the given module is not supported in api"
RELATED_ID_INVALID = "the related id given seems to be invalid"
RELATED_LIST_INVALID = "the related list name given seems to be invalid"
ID_INVALID = "the id given seems to be invalid"
RECORD_NOT_DELETED = "record not deleted"
RECORD_DELETED = "record deleted"
RECORD_ADDED = "record added"
RECORD_UPDATED = "record updated"
ATTACHMENT_UPLOADED = "attachment uploaded successfully"
# werkzeug's own HTTP errors, in Zoho's terms; any other client error is a request Zoho cannot parse.
HTTP_ERROR_CODES = {404: "INVALID_URL_PATTERN", 405: "INVALID_REQUEST_METHOD", 308: "INVALID_URL_PATTERN",
                    413: "FILE_SIZE_MORE_THAN_ALLOWED_SIZE"}


class ZohoError(CatalogueError):
    """An error Zoho reports as `{"code","details","message","status":"error"}`."""

    CATALOGUE = CATALOGUE
    HTTP_CODES = HTTP_ERROR_CODES
    BAD_REQUEST = "UNABLE_TO_PARSE_DATA_TYPE"
    INTERNAL = "INTERNAL_ERROR"

    def __init__(self, code: str, message: str | None = None, details: dict[str, Any] | None = None,
                 status: int | None = None) -> None:
        default_status, default_message = CATALOGUE[code]
        self.code = code
        self.message = default_message if message is None else message
        self.details = {} if details is None else details
        self.status = default_status if status is None else status
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The error object, keys in Zoho's order."""
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}

    def response(self) -> Response:
        """The error as a top-level answer."""
        return zoho_response(self.body(), self.status)



def zoho_response(payload: Any, status: int = 200) -> Response:
    """A Zoho answer: compact JSON in the given key order, with Zoho's content type."""
    return json_response(payload, status, CONTENT_TYPE)


def success_entry(record_id: str, message: str = RECORD_DELETED) -> dict[str, Any]:
    """One successful item of a `data` array."""
    return {"code": "SUCCESS", "details": {"id": record_id}, "message": message, "status": "success"}
