"""The Cosmos DB blueprint: `GET /`, the `/dbs/...` resource tree (name- or rid-based links), `/media/...`."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import quote

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter
from werkzeug.sansio.utils import get_host

from ..core.context import app_state, state_view
from ..core.families import Family
from ..core.paging import Window
from ..core.responses import file_response
from ..core.strict_json import not_json
from . import rids
from .auth import authenticate
from .errors import CONTENT_TYPE, CosmosError
from .limits import MAX_DOCUMENT_BYTES, document_bytes
from .models import FEEDS, MB, SYSTEM_PROPERTIES, Account, CosmosModels, Resource

URL_SAFE = "/:@!$&'()*+,;=-._~%"



def finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value
ACCOUNT_SUFFIX = ".documents.azure.com"
READ_CHARGE, WRITE_CHARGE = "1", "4.95"
INT32 = (-2**31, 2**31 - 1)  # the service reads its integer headers as 32-bit numbers
# A media type names one of IANA's registered top-level types and an RFC 6838 restricted-name subtype (lower case:
# werkzeug lower-cases the mimetype).
TOP_LEVEL_TYPES = frozenset({"application", "audio", "example", "font", "haptics", "image", "message", "model",
                             "multipart", "text", "video"})
SUBTYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


class CosmosPath(BaseConverter):
    """The rest of a Cosmos DB path: any characters, slashes (doubled or trailing) included."""

    regex = ".*"
    part_isolating = False


@dataclass(frozen=True)
class Target:
    """What a `/dbs/...` path names: a feed (`.../attachments`) or an item (`.../attachments/<id>`)."""

    segments: list[str]
    rid_based: bool

    @property
    def is_feed(self) -> bool:
        return len(self.segments) % 2 == 1

    @property
    def kind(self) -> str:
        return self.segments[-1] if self.is_feed else self.segments[-2]

    @property
    def signed_link(self) -> str:
        """The resource link the SDKs sign: the names as they are, or the last rid in lower case."""
        owner = self.segments if not self.is_feed else self.segments[:-1]
        if not owner:
            return ""
        return owner[-1].lower() if self.rid_based else "/".join(owner)


def int_header(name: str, default: int, low: int, high: int) -> int:
    """An integer header within [low, high] (so within what SQLite takes too); anything else is 400 BadRequest."""
    text = request.headers.get(name) or str(default)
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise CosmosError("BadRequest", f"Invalid value for header {name}: {text[:40]!r} is not an integer "
                                        f"from {low} to {high}.")
    return value


@contextmanager
def reading_body() -> Iterator[None]:
    """A body that cannot be read (`wire.GuardedInput` says so with a BadRequest) is 400 BadRequest in the
    service's words, before anything is stored."""
    try:
        yield
    except BadRequest as exc:
        cause = type(exc.__cause__ or exc).__name__
        raise CosmosError("BadRequest", f"The request body could not be read ({cause}): "
                                        "it is cut short or not well-formed.") from None


def upload_type() -> str:
    """The upload's Content-Type, if it names a real media type (`junt/test` does not): else 400 BadRequest."""
    top, _, sub = request.mimetype.partition("/")
    if top not in TOP_LEVEL_TYPES or not SUBTYPE.fullmatch(sub):
        raise CosmosError("BadRequest", f"The media type {request.content_type[:100]!r} is invalid: a type/subtype "
                                        f"of a registered top-level type ({', '.join(sorted(TOP_LEVEL_TYPES))}) "
                                        "is expected.")
    return request.content_type or request.mimetype  # the header as sent, parameters included


def parse_target(rest: str) -> Target:
    """The target of `/dbs<rest>`; `//` and a trailing `/` are tolerated."""
    if rest and not rest.startswith("/"):
        raise CosmosError("NotFound")
    segments = ["dbs", *filter(None, rest.split("/"))]
    if segments[0::2] != list(rids.KINDS[:len(segments[0::2])]) or len(segments) > 8:
        raise CosmosError("NotFound")
    return Target(segments, len(segments) > 1 and rids.is_rid(segments[1], "dbs"))


blueprint = Blueprint("cosmos", __name__)  # at the root of the URL space, as the service is
blueprint.record_once(lambda setup: setup.app.url_map.converters.setdefault("cosmospath", CosmosPath))


def signed_for_path() -> None:
    """A stub's check: the call is signed with the account's key for its path, by the service's rule (the link
    is the path; the type is its last segment of a feed, or the segment before a resource's id)."""
    segments = [s for s in request.path.split("/") if s]
    if len(segments) % 2:
        resource_type, link = segments[-1], "/".join(segments[:-1])
    else:
        resource_type, link = (segments[-2], "/".join(segments)) if segments else ("", "")
    check(account(), resource_type, link)


def models_url() -> bool:
    """Whether a routed call's URL is one the mock serves: `/dbs<rest>` also takes stored procedures, users..."""
    if request.endpoint != "cosmos.resources":
        return True
    try:
        parse_target(request.view_args["rest"])  # type: ignore[index]
    except CosmosError:
        return False
    return True


FAMILY = Family(name="cosmos", error=CosmosError, blueprint=blueprint, prefixes=("/dbs", "/media"), paths=("/",),
                leading_slashes=True, authenticate=signed_for_path, models_url=models_url)


def models() -> CosmosModels:
    """The Cosmos DB models in this app."""
    state = app_state()
    return state.shared("cosmos", lambda: CosmosModels(state.store))


def own_url() -> str:
    """This server as the client reached it (`http://[::1]:8000`); if the Host is empty or not a host
    (werkzeug reads those as ""), the address it listens on. (Routing already refused hosts IDNA refuses.)"""
    host = request.host or get_host(request.scheme, None, request.server) or "localhost"
    return f"{request.scheme}://{host}"


def account_name() -> str | None:
    host = request.host.rsplit(":", 1)[0].lower()
    return host[:-len(ACCOUNT_SUFFIX)] if host.endswith(ACCOUNT_SUFFIX) else None


def account() -> Account:
    found = models().account(account_name())
    if found is None:
        raise CosmosError("NotFound", "No Cosmos DB account is defined in the fixtures.")
    return found


def check(found: Account, resource_type: str, link: str) -> None:
    if found.verify and app_state().settings.cosmos_verify:
        authenticate(request.headers.get("authorization"), request.method, resource_type, link,
                     request.headers.get("x-ms-date"), found.keys, state_view().now)


@blueprint.after_request
def common_headers(response: Response) -> Response:
    """What every answer carries, errors and media included."""
    found = models().account(account_name())
    headers = {"x-ms-activity-id": request.headers.get("x-ms-activity-id") or str(uuid.uuid4()),
               "x-ms-request-charge": WRITE_CHARGE if request.method in ("POST", "PUT", "DELETE")
               and response.status_code < 400 else READ_CHARGE,
               "x-ms-schemaversion": "1.1"}
    if found is not None:
        headers.update({"x-ms-session-token": f"0:-1#{found.lsn}",
                        "x-ms-max-media-storage-usage-mb": str(found.media_quota_mb),
                        "x-ms-media-storage-usage-mb": str(models().media_usage(found.name) // MB)})
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


def respond(body: Any, status: int = 200, resource: Resource | None = None,
            owner: list[Resource] | None = None, location: bool = False) -> Response:
    text = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    response = Response(text, status=status, content_type=CONTENT_TYPE)
    headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
    if resource is not None:
        headers["etag"] = resource.etag
    if owner:
        # Header values are Latin-1: names beyond it are percent-encoded, as in a URL.
        headers["x-ms-alt-content-path"] = quote("/".join(f"{r.kind}/{r.id}" for r in owner), safe=URL_SAFE)
        headers["x-ms-content-path"] = owner[-1].rid
    if location:
        headers["Content-Location"] = own_url() + quote(request.root_path + request.path, safe=URL_SAFE)
    response.headers.update(headers)
    return response


def resolve(found: Account, target: Target) -> list[Resource]:
    """The resources a path walks through (all of them for an item, the owners for a feed)."""
    chain: list[Resource] = []
    parent = ""
    for kind, key in zip(target.segments[0::2], target.segments[1::2]):
        resource = (models().by_rid(found.name, key.replace("-", "/")) if target.rid_based
                    else models().by_id(found.name, parent, kind, key))
        if resource is None or resource.kind != kind or resource.parent != parent:
            raise CosmosError("NotFound")
        chain.append(resource)
        parent = resource.rid
    return chain


def json_body() -> dict[str, Any]:
    request.max_content_length = MAX_DOCUMENT_BYTES  # checked on Content-Length, and as a chunked body is read
    with reading_body():
        data = request.get_data()
    try:
        body = json.loads(data or b"null", parse_constant=not_json, parse_float=finite)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CosmosError("BadRequest", "The request payload is invalid: it is not valid JSON.") from None
    if not isinstance(body, dict):
        raise CosmosError("BadRequest", "The request payload is invalid: a JSON object is expected.")
    try:
        size = document_bytes(body)
    except ValueError:  # "\ud800" parses, but no UTF-8 can hold it: it would be stored and never served
        raise CosmosError("BadRequest", "The request payload is invalid: a string holds a lone UTF-16 "
                                        "surrogate.") from None
    if size > MAX_DOCUMENT_BYTES:  # the body was smaller: numbers such as 1e5 are served longer (100000.0)
        raise CosmosError("RequestEntityTooLarge", f"The document has {size} bytes; the maximum allowable "
                                                   f"document size is 2 MB ({MAX_DOCUMENT_BYTES} bytes).")
    return body


def checked_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise CosmosError("BadRequest", "The input content is invalid because the required properties - "
                                        "'id; ' - are missing")
    if len(value) > 255 or any(c in value for c in "/\\?#\0"):
        raise CosmosError("BadRequest", "The input name is invalid: an id has at most 255 characters and "
                                        "no '/', '\\', '?', '#' or NUL.")
    return value


def user_properties(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "id" and k not in SYSTEM_PROPERTIES}


@blueprint.get("/")
def database_account() -> Response:
    found = account()
    check(found, "", "")
    endpoint = (app_state().settings.public_url or own_url()) + "/"
    location = [{"name": "mockzoho", "databaseAccountEndpoint": endpoint}]
    body = {"_self": "", "id": found.name, "_rid": f"{found.name}{ACCOUNT_SUFFIX}", "media": "//media/",
            "addresses": "//addresses/", "_dbs": "//dbs/", "writableLocations": location,
            "readableLocations": location, "enableMultipleWriteLocations": False,
            "userReplicationPolicy": {"asyncReplication": False, "minReplicaSetSize": 1, "maxReplicasetSize": 4},
            "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
            "systemReplicationPolicy": {"minReplicaSetSize": 1, "maxReplicasetSize": 4},
            "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1}}
    return respond(body, location=True)


@blueprint.route("/dbs<cosmospath:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def resources(rest: str) -> Response:
    found = account()
    target = parse_target(rest)
    check(found, target.kind, target.signed_link)
    chain = resolve(found, target)
    now = int(state_view().now)
    if target.is_feed:
        parent = chain[-1].rid if chain else ""
        if request.method == "GET":
            return list_feed(found, target.kind, parent, chain)
        if request.method == "POST":
            return create(found, target.kind, parent, chain, now)
        raise CosmosError("MethodNotAllowed")
    resource, owner = chain[-1], chain[:-1]
    if request.method == "GET":
        return respond(resource.body(), resource=resource, owner=owner)
    if request.method == "PUT":
        body = json_body()
        replaced = models().replace(found, resource, checked_id(body.get("id")), user_properties(body),
                                  request.headers.get("If-Match"), now)
        return respond(replaced.body(), resource=replaced, owner=owner)
    if request.method == "DELETE":
        models().delete(found, resource, request.headers.get("If-Match"))
        return respond(None, 204, owner=owner, location=True)
    raise CosmosError("MethodNotAllowed")


def list_feed(found: Account, kind: str, parent: str, owner: list[Resource]) -> Response:
    limit = int_header("x-ms-max-item-count", -1, *INT32)  # below 1 (-1 "dynamic"): all that is left
    offset = int_header("x-ms-continuation", 0, 0, INT32[1])  # the mock's continuation is an offset
    window = Window(offset, None if limit < 1 else limit)
    page, more = window.cut(models().children(found.name, parent, kind, window.offset, window.rows_to_read))
    response = respond({"_rid": parent, FEEDS[kind]: [r.body() for r in page], "_count": len(page)},
                       owner=owner, location=True)
    response.headers["x-ms-item-count"] = str(len(page))
    if more:
        response.headers["x-ms-continuation"] = str(offset + len(page))
    return response


def create(found: Account, kind: str, parent: str, owner: list[Resource], now: int) -> Response:
    if request.headers.get("x-ms-documentdb-isquery", "").lower() == "true":
        raise CosmosError("BadRequest", "Queries are not served by this mock; read the feed instead.")
    upsert = request.headers.get("x-ms-documentdb-is-upsert", "").lower() == "true"
    media_type = request.mimetype
    if kind == "attachments" and media_type and media_type != "application/json":
        content_type = upload_type()  # before any byte is read
        slug = request.headers.get("Slug")
        new_id = checked_id(slug) if slug else str(uuid.uuid4())
        request.max_content_length = found.max_media_bytes
        with reading_body():
            staged = app_state().store.stage_blob(request.stream)
        created, new = models().create(found, parent, kind, new_id, {"contentType": content_type}, now,
                                     upsert, staged, content_type)
    else:
        body = json_body()
        properties = user_properties(body)
        if kind == "attachments":
            properties = {"contentType": body.get("contentType"), "media": body.get("media"), **properties}
        created, new = models().create(found, parent, kind, checked_id(body.get("id")), properties, now, upsert)
    return respond(created.body(), 201 if new else 200, resource=created, owner=owner)


@blueprint.route("/media<cosmospath:rest>", methods=["GET", "PUT"])
def media(rest: str) -> Response:
    found = account()
    parts = [p for p in rest.split("/") if p]
    decoded = rids.attachment_rid_of_media(parts[0]) if len(parts) == 1 and rest.startswith("/") else None
    if decoded is None:
        raise CosmosError("NotFound")
    rid, signed = decoded
    check(found, "media", signed)
    attachment = models().by_rid(found.name, rid)
    if attachment is None or attachment.kind != "attachments" or attachment.blob is None:
        raise CosmosError("NotFound")
    if request.method == "PUT":
        content_type = upload_type() if request.mimetype else "application/octet-stream"
        request.max_content_length = found.max_media_bytes
        with reading_body():
            staged = app_state().store.stage_blob(request.stream)
        updated = models().replace_media(found, attachment, staged, content_type, request.headers.get("If-Match"),
                                       int(state_view().now))
        return respond(updated.body(), resource=updated)
    response = file_response(app_state().store.blob_source(attachment.blob),
                             attachment.media_type or "application/octet-stream", etag=False, conditional=False)
    if response is None:
        raise CosmosError("NotFound")
    response.headers["etag"] = attachment.etag
    return response

