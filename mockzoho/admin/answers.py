"""What the control API answers, as marshmallow schemas: they describe its answers in the OpenAPI document
(`openapi.py`), and the schemathesis test holds the live answers to them. Unknown keys are refused, so an answer
that gains a key it does not document fails that test."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from .schemas import FaultSchema, LimitSchema, StubSchema

# The error kinds each status carries (admin/errors.py; `from_http` makes werkzeug's 413 `invalid_request`).
ERROR_KINDS: dict[int, tuple[str, ...]] = {
    400: ("invalid_request", "invalid_json", "invalid_fixtures", "matches_nothing"),
    401: ("unauthorized",),
    403: ("control_api_closed",),
    404: ("not_found",),
    409: ("conflict",),
    413: ("invalid_request",),
}


class ErrorAnswer(Schema):
    error = fields.String(required=True, metadata={"description": "the kind of error"})
    message = fields.String(required=True)
    details = fields.Raw(metadata={"description": "for `invalid_request`, the problems by field; for "
                                                  "`invalid_fixtures`, a list of `file: path: problem`"})


class HealthAnswer(Schema):
    """The keys after `version` are shown only to a caller the control API trusts."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))
    version = fields.String(required=True)
    pid = fields.Integer()
    uptime_seconds = fields.Float()
    state = fields.String()
    fixtures = fields.String()
    fixture_digest = fields.String(allow_none=True)


class ResetAnswer(Schema):
    reset = fields.String(required=True, metadata={"description": "`all`, or the org reset"})
    duration_ms = fields.Float(required=True)


class FixturesAnswer(Schema):
    fixture_digest = fields.String(required=True)
    orgs = fields.List(fields.String(), required=True)


class OrgEntry(Schema):
    id = fields.String(required=True)
    template = fields.String(required=True, allow_none=True, metadata={"description": "null for fixture orgs"})


class OrgListAnswer(Schema):
    orgs = fields.List(fields.Nested(OrgEntry), required=True)


class ClientAnswer(Schema):
    client_id = fields.String(required=True)
    client_secret = fields.String(required=True)


class NewOrgAnswer(Schema):
    id = fields.String(required=True)
    tokens = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "each fixture token (access and refresh) -> this org's"})
    clients = fields.Dict(keys=fields.String(), values=fields.Nested(ClientAnswer), required=True,
                          metadata={"description": "each fixture client id -> this org's own client"})


class DeletedOrgAnswer(Schema):
    deleted = fields.String(required=True)


class TokenAnswer(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True, allow_none=True)
    expires_at = fields.DateTime(required=True)


class ClockAnswer(Schema):
    now = fields.DateTime(required=True)
    frozen = fields.Boolean(required=True)


class JournalEntry(Schema):
    """One journaled call, and its answer."""

    id = fields.Integer(required=True)
    time = fields.DateTime(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    query = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                          metadata={"description": "credentials keep only their last 4 characters"})
    body_size = fields.Integer(required=True)
    body_preview = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "0: the connection was dropped"})
    code = fields.String(required=True, allow_none=True)
    duration_ms = fields.Float(required=True)
    org = fields.String(required=True, allow_none=True)
    tag = fields.String(required=True, allow_none=True)
    product = fields.String(required=True, allow_none=True)
    response_headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    response_size = fields.Integer(required=True)
    response_preview = fields.String(required=True)
    matched = fields.String(required=True, allow_none=True, metadata={
        "description": "what answered: `route <endpoint>`, `stub <id>`, `fault <id>`, `proxy <url>`, `limit`; "
                       "null when nothing matched"})
    unmatched = fields.Boolean(required=True)


class JournalAnswer(Schema):
    requests = fields.List(fields.Nested(JournalEntry), required=True, metadata={"description": "newest first"})


class NearMiss(Schema):
    stub = fields.Integer(required=True)
    failed = fields.List(fields.String(), required=True, metadata={"description": "the parts that did not match"})
    match = fields.Dict(required=True)
    org = fields.String(required=True, allow_none=True)


class UnmatchedEntry(JournalEntry):
    near_misses = fields.List(fields.Nested(NearMiss), required=True)


class UnmatchedAnswer(Schema):
    requests = fields.List(fields.Nested(UnmatchedEntry), required=True)


class StubEntry(StubSchema):
    """A stub as it was set, with its id, how often it answered and where it came from."""

    id = fields.Integer(required=True)
    remaining = fields.Integer(required=True, allow_none=True, metadata={"description": "of its `times`"})
    hits = fields.Integer(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["api", "fixtures", "recorded"]))


class StubListAnswer(Schema):
    stubs = fields.List(fields.Nested(StubEntry), required=True)


class CountAnswer(Schema):
    count = fields.Integer(required=True)


class DeletedAnswer(Schema):
    deleted = fields.Integer(required=True)


class IdAnswer(Schema):
    id = fields.Integer(required=True)


class FaultEntry(FaultSchema):
    """A fault as it was set, with its id and how often it fired."""

    id = fields.Integer(required=True)
    remaining = fields.Integer(required=True, allow_none=True, metadata={"description": "of its `times`"})
    hits = fields.Integer(required=True)


class FaultListAnswer(Schema):
    faults = fields.List(fields.Nested(FaultEntry), required=True)


class LimitAnswer(LimitSchema):
    org = fields.String(required=True)


class LimitEntry(LimitAnswer):
    used = fields.Integer(required=True, metadata={"description": "calls in the current window"})
    in_flight = fields.Integer(required=True)


class LimitListAnswer(Schema):
    limits = fields.List(fields.Nested(LimitEntry), required=True)


class DocumentAnswer(Schema):
    """This OpenAPI document."""

    class Meta:
        unknown = INCLUDE
