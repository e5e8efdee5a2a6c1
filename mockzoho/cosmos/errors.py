"""How Cosmos DB reports errors: `{"code": "<Reason>", "message": "..."}` with the reason's HTTP status."""

from __future__ import annotations

import uuid

from flask import Response, has_request_context, request

from ..core.errors import CatalogueError
from ..core.responses import json_response

CONTENT_TYPE = "application/json"

# code -> (HTTP status, message), from learn.microsoft.com/rest/api/cosmos-db/http-status-codes-for-cosmosdb.
CATALOGUE: dict[str, tuple[int, str]] = {
    "BadRequest": (400, "The request is invalid."),
    "Unauthorized": (401, "The input authorization token can't serve the request."),
    "Forbidden": (403, "The authorization token is not valid at the current time."),
    "NotFound": (404, "Resource Not Found"),
    "MethodNotAllowed": (405, "The requested verb is not supported."),
    "RequestTimeout": (408, "The request timed out."),
    "Conflict": (409, "Resource with specified id or name already exists."),
    "PreconditionFailed": (412, "One of the specified pre-condition is not met"),
    "RequestEntityTooLarge": (413, "Request size is too large"),
    "TooManyRequests": (429, "Request rate is large"),
    "RetryWith": (449, "Conflicting request to resource has been attempted. Retry to avoid conflicts."),
    "InternalServerError": (500, "Unknown server error occurred when processing this request."),
    "ServiceUnavailable": (503, "Service is currently unavailable."),
}
RETRY_AFTER_MS = "5"
# werkzeug's own HTTP errors, in the service's terms; any other client error is a bad request.
HTTP_ERROR_CODES = {404: "NotFound", 405: "MethodNotAllowed", 413: "RequestEntityTooLarge"}


class CosmosError(CatalogueError):
    """A Cosmos DB error; the message ends, like the service's, with the request's activity id."""

    CATALOGUE = CATALOGUE
    HTTP_CODES = HTTP_ERROR_CODES
    BAD_REQUEST = "BadRequest"
    INTERNAL = "InternalServerError"

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.status, default = CATALOGUE[code]
        self.message = default if message is None else message
        super().__init__(f"{code}: {self.message}")

    def response(self) -> Response:
        """The error answer, echoing the request's x-ms-activity-id if it sent one."""
        given = request.headers.get("x-ms-activity-id") if has_request_context() else None
        activity_id = given or str(uuid.uuid4())
        response = json_response({"code": self.code, "message": f"{self.message}\r\nActivityId: {activity_id}"},
                                 self.status, CONTENT_TYPE, ascii_only=True)
        response.headers["x-ms-activity-id"] = activity_id
        if self.status == 429:
            self.throttled(response)
        return response

    @staticmethod
    def throttled(response: Response) -> None:
        """A 429 (the service's or a fault's) says how long to wait: the SDKs retry on it."""
        response.headers.setdefault("x-ms-retry-after-ms", RETRY_AFTER_MS)
