"""The `cosmos:` section of a fixtures file: accounts with their keys, databases, collections, documents
and attachments, with the rids the documents' samples use."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from marshmallow import ValidationError, fields, validate, validates

from ..fixture_messages import FirstDefined, FixtureSchema
from . import rids
from .limits import MAX_DOCUMENT_BYTES, document_bytes

ID = validate.And(validate.Length(1, 255), validate.Regexp(r"^[^/\\?#]*$",
                                                           error="must not contain '/', '\\', '?' or '#'"))
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def _key(value: str) -> None:
    try:
        if not base64.b64decode(value, validate=True):
            raise ValueError("empty")
    except (binascii.Error, ValueError) as exc:
        raise ValidationError("must be a base64 master key") from exc


class AttachmentSchema(FixtureSchema):
    id = fields.String(required=True, validate=ID)
    rid = fields.String()
    contentType = fields.String(load_default="application/octet-stream")  # noqa: N815 - the API's name
    media = fields.String()
    content = fields.String()
    content_base64 = fields.String()
    path = fields.String()
    properties = fields.Dict(keys=fields.String(), load_default=dict)


class DocumentSchema(FixtureSchema):
    id = fields.String(required=True, validate=ID)
    rid = fields.String()
    properties = fields.Dict(keys=fields.String(), load_default=dict)
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list)


class CollectionSchema(FixtureSchema):
    id = fields.String(required=True, validate=ID)
    rid = fields.String()
    partition_key = fields.String(load_default=None)
    documents = fields.List(fields.Nested(DocumentSchema), load_default=list)


class DatabaseSchema(FixtureSchema):
    id = fields.String(required=True, validate=ID)
    rid = fields.String()
    collections = fields.List(fields.Nested(CollectionSchema), load_default=list)


class AccountSchema(FixtureSchema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9-]{3,44}$", error=(
        "must be 3 to 44 lower-case letters, digits or '-'")))
    primary_key = fields.String(load_default=EMULATOR_KEY)
    secondary_key = fields.String(load_default=None)
    verify = fields.Boolean(load_default=True)
    # Bounded so that the quota in bytes (x 2**20) still fits SQLite's 64-bit INTEGER.
    media_quota_mb = fields.Integer(load_default=2048, validate=validate.Range(min=1, max=2**40))
    max_media_bytes = fields.Integer(load_default=2 * 1024 * 1024, validate=validate.Range(min=1, max=2**40))
    databases = fields.List(fields.Nested(DatabaseSchema), load_default=list)

    @validates("primary_key")
    def primary(self, value: str, **kwargs: Any) -> None:
        _key(value)

    @validates("secondary_key")
    def secondary(self, value: str | None, **kwargs: Any) -> None:
        if value is not None:
            _key(value)


class CosmosSchema(FixtureSchema):
    accounts = fields.List(fields.Nested(AccountSchema), load_default=list)


@dataclass(frozen=True)
class ResourceFixture:
    """One resource: its kind, rid, parent rid, id, user properties and (attachments) media."""

    kind: str
    rid: str
    parent: str
    id: str
    properties: dict[str, Any]
    content: bytes | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class AccountFixture:
    name: str
    keys: tuple[str, ...]
    verify: bool
    media_quota_mb: int
    max_media_bytes: int
    resources: tuple[ResourceFixture, ...]


def build_accounts(data: dict, file: str, problem: Callable[[str, str], None],
                   read: Callable[[str, str], bytes | None], names: FirstDefined) -> tuple[AccountFixture, ...]:
    """Accounts from the validated section of `file`; `problem(path, message)` reports, `read(path, file)` loads
    a path, and `names` holds the account names taken so far (in earlier files too)."""
    accounts = []

    def unique(seen: FirstDefined, key: Hashable | None, at: str, what: str) -> None:
        duplicate = seen.duplicate(key, f"{file}: {at}", what)
        if duplicate:
            problem(at, duplicate)

    for a, account in enumerate(data.get("accounts", [])):
        where = f"cosmos.accounts.{a}"
        unique(names, account.get("name"), f"{where}.name", f"account {account.get('name')!r}")
        resources: list[ResourceFixture] = []
        taken, ids = FirstDefined(), FirstDefined()  # rids; (kind, parent, id)

        def add(kind: str, parent: str, index: int, item: dict, at: str) -> str:
            rid = item.get("rid") or rids.child_rid(parent, kind, index + 1)
            raw = rids.decode(rid)
            size = rids.rid_size(kind)
            if raw is None or len(raw) != size or not raw.startswith(rids.decode(parent) or b""):
                problem(f"{at}.rid", f"must be the base64 of {size} bytes starting with the parent's rid")
            elif not rids.url_safe(rid):
                problem(f"{at}.rid", "must not contain '/'")
            else:  # a rid made up from the parent's has no `rid` key to point at: the item it names stands for it
                unique(taken, rid, f"{at}.rid" if item.get("rid") else at, f"rid {rid!r}")
            unique(ids, (kind, parent, item.get("id")) if "id" in item else None, f"{at}.id",
                   f"id {item.get('id')!r}")
            content, properties = None, dict(item.get("properties", {}))
            if kind == "colls" and item.get("partition_key"):
                properties["partitionKey"] = {"paths": [item["partition_key"]], "kind": "Hash"}
            if kind == "attachments":
                content = _content(item, at, problem, read)
                properties = {"contentType": item.get("contentType"), **properties}
                if content is None:
                    properties["media"] = item.get("media", "")
            _check_document({"id": item.get("id", ""), **properties}, at, problem)
            resources.append(ResourceFixture(kind, rid, parent, item.get("id", ""), properties, content,
                                             item.get("contentType")))
            return rid

        for d, db in enumerate(account.get("databases", [])):
            db_rid = add("dbs", "", d, db, f"{where}.databases.{d}")
            for c, coll in enumerate(db.get("collections", [])):
                coll_at = f"{where}.databases.{d}.collections.{c}"
                coll_rid = add("colls", db_rid, c, coll, coll_at)
                for o, doc in enumerate(coll.get("documents", [])):
                    doc_rid = add("docs", coll_rid, o, doc, f"{coll_at}.documents.{o}")
                    for t, att in enumerate(doc.get("attachments", [])):
                        add("attachments", doc_rid, t, att, f"{coll_at}.documents.{o}.attachments.{t}")
        keys = tuple(k for k in (account.get("primary_key"), account.get("secondary_key")) if k)
        accounts.append(AccountFixture(account.get("name", ""), keys, account.get("verify", True),
                                       account.get("media_quota_mb", 2048),
                                       account.get("max_media_bytes", 2 * 1024 * 1024), tuple(resources)))
    return tuple(accounts)


def _check_document(document: dict[str, Any], at: str, problem: Callable[[str, str], None]) -> None:
    """A fixture resource is a document too: JSON, and within Cosmos DB's 2 MB."""
    try:
        size = document_bytes(document)
    except (TypeError, ValueError) as exc:
        problem(f"{at}.properties", f"must be JSON: {exc}")
        return
    if size > MAX_DOCUMENT_BYTES:
        problem(f"{at}.properties", f"the document has {size} bytes, over Cosmos DB's 2 MB document limit "
                                    f"({MAX_DOCUMENT_BYTES} bytes)")


def _content(item: dict, at: str, problem: Callable[[str, str], None],
             read: Callable[[str, str], bytes | None]) -> bytes | None:
    sources = [k for k in ("media", "content", "content_base64", "path") if k in item]
    if len(sources) > 1:
        problem(at, f"give at most one of media, content, content_base64, path (got {', '.join(sources)})")
    if "content" in item:
        return item["content"].encode()
    if "content_base64" in item:
        try:
            return base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            problem(f"{at}.content_base64", f"not valid base64: {exc}")
    if "path" in item:
        return read(f"{at}.path", item["path"])
    return None
