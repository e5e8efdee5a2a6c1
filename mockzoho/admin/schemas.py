"""What the control API accepts: marshmallow schemas that refuse unknown fields and name every problem."""

from __future__ import annotations

from typing import Any

from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ..core.context import app_state
from ..fixtures.fields import ORG_ID
from ..fixtures.stubs import StubSchema  # noqa: F401  # `load("StubSchema", ...)`: the fixtures' own schema
from ..fixtures.stubs import answer_headers, check_glob, int64, refuse_framing
from ..zoho.scopes import split_scopes
from .models import EARLIEST, LATEST


def journaled_family(name: str) -> None:
    """A family of this app whose calls are journaled and can be faulted."""
    validate.OneOf(app_state().families.journaled)(name)


class OrgSchema(Schema):
    from_ = fields.String(data_key="from", load_default=None)
    id = fields.String(load_default=None, validate=ORG_ID)
    empty = fields.Boolean(load_default=False)


class ResetSchema(Schema):
    org = fields.String(load_default=None)


class ScopesField(fields.Field):
    """Scopes as a list of strings or one comma/space-separated string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            value = split_scopes(value)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ValidationError("must be a non-empty list of scopes (or one comma-separated string)")
        return value


class TokenSchema(Schema):
    org = fields.String(required=True)
    user = fields.String(required=True)
    scopes = ScopesField(required=True)
    expires_in = fields.Integer(load_default=3600, validate=validate.Range(min=1, max=10 * 365 * 86400))




class ClockSchema(Schema):
    now = fields.AwareDateTime(required=True, default_timezone=timezone.utc,
                               validate=validate.Range(min=EARLIEST, max=LATEST))
    frozen = fields.Boolean(load_default=True)


class AdvanceSchema(Schema):
    seconds = fields.Float(required=True, validate=validate.Range(min=-10 * 365 * 86400, max=10 * 365 * 86400))


class MatchSchema(Schema):
    product = fields.String(validate=journaled_family)
    method = fields.String(validate=validate.Length(1, 16))
    path = fields.String(validate=check_glob)
    org = fields.String()
    token = fields.String()


class RespondSchema(Schema):
    code = fields.String(validate=validate.Regexp(r"^[A-Za-z_]{1,64}$", error="not an error code"))
    status = fields.Integer(validate=validate.Range(min=100, max=599))
    body = fields.Raw(allow_none=True)
    headers = answer_headers()

    @validates("headers")
    def own_headers(self, value: dict[str, str], **kwargs: Any) -> None:
        refuse_framing(value)

    @validates_schema
    def code_or_status(self, data: dict, **kwargs: Any) -> None:
        if ("code" in data) == ("status" in data):
            raise ValidationError("give either a Zoho error `code` or a raw `status` (with `body`)")
        if "code" in data and ("body" in data or "headers" in data):
            raise ValidationError("`body` and `headers` go with `status`, not with `code`")


class FaultSchema(Schema):
    match = fields.Nested(MatchSchema, load_default=dict)
    respond = fields.Nested(RespondSchema)
    delay_ms = fields.Integer(validate=validate.Range(min=0, max=60_000))
    drop = fields.Boolean()
    times = int64(1)
    probability = fields.Float(validate=validate.Range(min=0, max=1))
    seed = int64(load_default=0)

    @validates_schema
    def one_action(self, data: dict, **kwargs: Any) -> None:
        if not ({"respond", "delay_ms"} & set(data) or data.get("drop")):
            raise ValidationError("give an action: `respond`, `delay_ms` or `drop: true`")
        if data.get("drop") and "respond" in data:
            raise ValidationError("a dropped connection has no response: give `drop` or `respond`")
        if "times" in data and "probability" in data:
            raise ValidationError("give `times` or `probability`, not both")


class LimitSchema(Schema):
    calls = int64(1, load_default=None)
    window_seconds = fields.Float(validate=validate.Range(min=0.001), load_default=None)
    concurrency = int64(1, load_default=None)

    @validates_schema
    def budget(self, data: dict, **kwargs: Any) -> None:
        if data["calls"] is None and data["concurrency"] is None:
            raise ValidationError("give `calls` (with `window_seconds`) or `concurrency`, or both")
        if (data["calls"] is None) != (data["window_seconds"] is None):
            raise ValidationError("`calls` and `window_seconds` go together")


class JournalQuerySchema(Schema):
    method = fields.String(load_default=None)
    path = fields.String(load_default=None, validate=check_glob)
    status = int64(0, 999, load_default=None)  # 0: a dropped connection
    code = fields.String(load_default=None)
    org = fields.String(load_default=None)
    tag = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    after = int64(0, load_default=None)
    unmatched = fields.Boolean(load_default=None)
    order = fields.String(load_default="desc", validate=validate.OneOf(("desc", "asc")))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100_000))


class UnmatchedQuerySchema(Schema):
    org = fields.String(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000))

