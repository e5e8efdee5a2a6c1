"""Cosmos DB resources on the shared state: accounts, the resource tree, attachment media (no HTTP here)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import Any, Iterator

from ..store import Store
from ..store.blobs import StagedBlob
from ..store.cosmos import AccountRow, ResourceGone, ResourceIdTaken, ResourceRow
from . import rids
from .errors import CosmosError

SYSTEM_PROPERTIES = ("_rid", "_self", "_etag", "_ts", "_attachments", "_colls", "_users", "_docs", "_sprocs",
                     "_triggers", "_udfs", "_conflicts")
FEEDS = {"dbs": "Databases", "colls": "DocumentCollections", "docs": "Documents", "attachments": "Attachments"}
DEFAULT_INDEXING = {"indexingMode": "consistent", "automatic": True, "includedPaths": [{"path": "/*"}],
                    "excludedPaths": []}
MB = 1024 * 1024


Account = AccountRow  # what the API knows of an account is what the store holds of it


class Resource(ResourceRow):
    """A database, collection, document or attachment, as the API shows it."""

    @property
    def self_link(self) -> str:
        raw = rids.decode(self.rid) or b""
        return "/".join(f"{kind}/{rids.encode(raw[:rids.rid_size(kind)])}"
                        for kind in rids.KINDS[:rids.KINDS.index(self.kind) + 1])

    def body(self) -> dict[str, Any]:
        """The resource as the API shows it, system properties last (attachments: id, contentType, media first)."""
        system = {"_rid": self.rid, "_ts": self.ts, "_self": self.self_link, "_etag": self.etag}
        if self.kind == "attachments":
            media = f"/media/{rids.media_id(self.rid)}" if self.blob is not None else self.properties.get("media")
            head = {"id": self.id, "contentType": self.properties.get("contentType"), "media": media}
            rest = {k: v for k, v in self.properties.items() if k not in ("contentType", "media")}
            return {**head, **rest, **system}
        links = {"dbs": {"_colls": "colls/", "_users": "users/"},
                 "colls": {"_docs": "docs/", "_sprocs": "sprocs/", "_triggers": "triggers/", "_udfs": "udfs/",
                           "_conflicts": "conflicts/"},
                 "docs": {"_attachments": "attachments/"}}[self.kind]
        extra = {"indexingPolicy": DEFAULT_INDEXING} if self.kind == "colls" else {}
        return {"id": self.id, **extra, **self.properties, **system, **links}


def _resource(row: ResourceRow | None) -> Resource | None:
    return None if row is None else Resource(*row)


def _check_etag(if_match: str | None, etag: str) -> None:
    """PreconditionFailed if `if_match` is given and is not the resource's etag (bare or quoted) or `*`."""
    if if_match is not None and if_match not in (etag, etag.strip('"'), "*"):
        raise CosmosError("PreconditionFailed")


def _check_quota(account: Account, used: int, size: int) -> None:
    """RequestEntityTooLarge if media of `size` bytes is too large for one attachment or, beside the `used`
    bytes of the account's other media, for the account."""
    if size > account.max_media_bytes or used + size > account.media_quota_mb * MB:
        raise CosmosError("RequestEntityTooLarge", "The attachment media exceeds the size allowed for one "
                          f"attachment ({account.max_media_bytes} bytes) or the account's media storage quota "
                          f"({account.media_quota_mb} MB).")


def _url_safe_child_rid(parent: str, kind: str, counter: int) -> str | None:
    """The rid of the parent's `counter`-th child, unless it has a `/`, which cannot stand in a URL."""
    rid = rids.child_rid(parent, kind, counter)
    return rid if rids.url_safe(rid) else None


@contextmanager
def _refusals() -> Iterator[None]:
    """The store's refusals as the API's errors."""
    try:
        yield
    except ResourceGone:
        raise CosmosError("NotFound") from None
    except ResourceIdTaken:
        raise CosmosError("Conflict") from None


class CosmosModels:
    """The resource tree of each account, read and written in transactions on the shared store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def account(self, name: str | None) -> Account | None:
        """The account of that name, or else the first one (the default for hosts that name none)."""
        rows = self.store.cosmos_accounts()
        return next((r for r in rows if r.name == name), rows[0] if rows else None)

    def media_usage(self, account: str) -> int:
        """Bytes of managed media the account holds."""
        return self.store.cosmos_media_usage(account)

    # -- reading ---------------------------------------------------------------------------------

    def by_rid(self, account: str, rid: str) -> Resource | None:
        return _resource(self.store.cosmos_resource(account, rid))

    def by_id(self, account: str, parent: str, kind: str, id_: str) -> Resource | None:
        if "\0" in id_:  # no id holds one (refused when made); PostgreSQL would read it as U+FFFD and find that
            return None
        return _resource(self.store.cosmos_resource_by_id(account, parent, kind, id_))

    def children(self, account: str, parent: str, kind: str, offset: int, limit: int | None) -> list[Resource]:
        """Children of a kind in creation order, from `offset`, at most `limit` (None: all)."""
        return [Resource(*row) for row in self.store.cosmos_children(account, parent, kind, offset, limit)]

    # -- writing ---------------------------------------------------------------------------------

    def create(self, account: Account, parent: str, kind: str, id_: str, properties: dict[str, Any], now: int,
               upsert: bool = False, staged: StagedBlob | None = None,
               media_type: str | None = None) -> tuple[Resource, bool]:
        """Create a resource (or, with `upsert`, replace the one with that id); returns it and whether it is new."""
        with _refusals():
            rid, new = self.store.put_cosmos_resource(
                account.name, parent, kind, id_, properties, now, upsert=upsert, staged=staged, media_type=media_type,
                check_media=partial(_check_quota, account), rid_for=partial(_url_safe_child_rid, parent, kind))
        return self.by_rid(account.name, rid), new  # type: ignore[return-value]

    def replace(self, account: Account, resource: Resource, id_: str, properties: dict[str, Any],
                if_match: str | None, now: int) -> Resource:
        """Replace a resource's properties (and maybe its id), if `if_match` (when given) is its etag."""
        with _refusals():
            self.store.replace_cosmos_resource(account.name, resource.rid, id_, properties, now,
                                               partial(_check_etag, if_match))
        return self.by_rid(account.name, resource.rid)  # type: ignore[return-value]

    def replace_media(self, account: Account, attachment: Resource, staged: StagedBlob, media_type: str,
                      if_match: str | None, now: int) -> Resource:
        """Replace the bytes (and so the contentType) of a managed attachment, if `if_match` is its etag."""
        with _refusals():
            self.store.replace_cosmos_media(account.name, attachment.rid, staged, media_type,
                                            {**attachment.properties, "contentType": media_type}, now,
                                            partial(_check_etag, if_match), partial(_check_quota, account))
        return self.by_rid(account.name, attachment.rid)  # type: ignore[return-value]

    def delete(self, account: Account, resource: Resource, if_match: str | None = None) -> None:
        """Delete a resource and everything under it; NotFound if another request deleted it first."""
        with _refusals():
            self.store.delete_cosmos_resource(account.name, resource.rid, partial(_check_etag, if_match))
