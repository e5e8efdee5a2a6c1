"""Cosmos DB resources on the shared state: accounts, the resource tree, attachment media (no HTTP here)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from ..store import Store
from ..store.blobs import StagedBlob
from . import rids
from .errors import CosmosError

SYSTEM_PROPERTIES = ("_rid", "_self", "_etag", "_ts", "_attachments", "_colls", "_users", "_docs", "_sprocs",
                     "_triggers", "_udfs", "_conflicts")
FEEDS = {"dbs": "Databases", "colls": "DocumentCollections", "docs": "Documents", "attachments": "Attachments"}
DEFAULT_INDEXING = {"indexingMode": "consistent", "automatic": True, "includedPaths": [{"path": "/*"}],
                    "excludedPaths": []}
MB = 1024 * 1024


@dataclass(frozen=True)
class Account:
    """A Cosmos DB account: its master keys, whether signatures are checked, and its media limits."""

    name: str
    keys: list[str]
    verify: bool
    media_quota_mb: int
    max_media_bytes: int
    lsn: int


@dataclass(frozen=True)
class Resource:
    """A database, collection, document or attachment."""

    kind: str
    rid: str
    parent: str
    id: str
    properties: dict[str, Any]
    etag: str
    ts: int
    blob: str | None
    media_type: str | None
    media_size: int

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


_COLUMNS = "kind, rid, parent, id, properties, etag, ts, blob, media_type, media_size"


def _resource(row: tuple) -> Resource:
    kind, rid, parent, id_, properties, etag, ts, blob, media_type, media_size = row
    return Resource(kind, rid, parent, id_, json.loads(properties), etag, ts, blob, media_type, media_size)


def new_etag() -> str:
    """A quoted GUID: new on every write, and never one a client held before a reset."""
    return f'"{uuid.uuid4()}"'


class CosmosModels:
    """The resource tree of each account, read and written in transactions on the shared store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def account(self, name: str | None) -> Account | None:
        """The account of that name, or else the first one (the default for hosts that name none)."""
        rows = self.store.connection().execute("SELECT name, keys, verify, media_quota_mb, max_media_bytes, lsn "
                                               "FROM cosmos_accounts ORDER BY position").fetchall()
        row = next((r for r in rows if r[0] == name), rows[0] if rows else None)
        return None if row is None else Account(row[0], row[1].split("\n"), bool(row[2]), row[3], row[4], row[5])

    def media_usage(self, account: str) -> int:
        """Bytes of managed media the account holds."""
        return self.store.connection().execute(
            "SELECT COALESCE(SUM(media_size), 0) FROM cosmos_resources WHERE account = ?", (account,)).fetchone()[0]

    # -- reading ---------------------------------------------------------------------------------

    def by_rid(self, account: str, rid: str) -> Resource | None:
        row = self.store.connection().execute(f"SELECT {_COLUMNS} FROM cosmos_resources WHERE account = ? AND rid = ?",
                                              (account, rid)).fetchone()
        return None if row is None else _resource(row)

    def by_id(self, account: str, parent: str, kind: str, id_: str) -> Resource | None:
        row = self.store.connection().execute(
            f"SELECT {_COLUMNS} FROM cosmos_resources WHERE account = ? AND parent = ? AND kind = ? AND id = ?",
            (account, parent, kind, id_)).fetchone()
        return None if row is None else _resource(row)

    def children(self, account: str, parent: str, kind: str, offset: int, limit: int | None) -> list[Resource]:
        """Children of a kind in creation order, from `offset`, at most `limit` (None: all)."""
        rows = self.store.connection().execute(
            f"SELECT {_COLUMNS} FROM cosmos_resources WHERE account = ? AND parent = ? AND kind = ? "
            "ORDER BY rowid LIMIT ? OFFSET ?", (account, parent, kind, -1 if limit is None else limit, offset))
        return [_resource(r) for r in rows]

    # -- writing ---------------------------------------------------------------------------------

    def create(self, account: Account, parent: str, kind: str, id_: str, properties: dict[str, Any], now: int,
               upsert: bool = False, staged: StagedBlob | None = None,
               media_type: str | None = None) -> tuple[Resource, bool]:
        """Create a resource (or, with `upsert`, replace the one with that id); returns it and whether it is new."""
        try:
            with self.store.write() as conn:
                self._check_parent(conn, account.name, parent)
                existing = conn.execute("SELECT rid, blob FROM cosmos_resources WHERE account = ? AND parent = ? "
                                        "AND kind = ? AND id = ?", (account.name, parent, kind, id_)).fetchone()
                if existing is not None and not upsert:
                    raise CosmosError("Conflict")
                if staged is not None:
                    self._check_quota(conn, account, staged.size, existing[0] if existing else None)
                self._bump(conn, account.name)
                blob = staged.digest if staged is not None else None
                if staged is not None:
                    self.store.place_blob(staged)
                if existing is not None:
                    rid, old_blob = existing
                    conn.execute("UPDATE cosmos_resources SET properties = ?, etag = ?, ts = ?, blob = ?, "
                                 "media_type = ?, media_size = ? WHERE account = ? AND rid = ?",
                                 (json.dumps(properties), new_etag(), now, blob, media_type,
                                  staged.size if staged else 0, account.name, rid))
                    if old_blob and old_blob != blob:
                        self.store.free_blobs(conn, [old_blob])
                else:
                    rid = self._new_rid(conn, account.name, parent, kind)
                    conn.execute("INSERT INTO cosmos_resources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                                 (account.name, rid, kind, parent, id_, json.dumps(properties), new_etag(), now,
                                  blob, media_type, staged.size if staged else 0))
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)
        return self.by_rid(account.name, rid), existing is None  # type: ignore[return-value]

    def replace(self, account: Account, resource: Resource, id_: str, properties: dict[str, Any],
                if_match: str | None, now: int) -> Resource:
        """Replace a resource's properties (and maybe its id), if `if_match` (when given) is its etag."""
        with self.store.write() as conn:
            self._check_etag(conn, account.name, resource.rid, if_match)
            if id_ != resource.id and conn.execute(
                    "SELECT 1 FROM cosmos_resources WHERE account = ? AND parent = ? AND kind = ? AND id = ?",
                    (account.name, resource.parent, resource.kind, id_)).fetchone():
                raise CosmosError("Conflict")
            self._bump(conn, account.name)
            conn.execute("UPDATE cosmos_resources SET id = ?, properties = ?, etag = ?, ts = ? "
                         "WHERE account = ? AND rid = ?",
                         (id_, json.dumps(properties), new_etag(), now, account.name, resource.rid))
        return self.by_rid(account.name, resource.rid)  # type: ignore[return-value]

    def replace_media(self, account: Account, attachment: Resource, staged: StagedBlob, media_type: str,
                      if_match: str | None, now: int) -> Resource:
        """Replace the bytes (and so the contentType) of a managed attachment, if `if_match` is its etag."""
        try:
            with self.store.write() as conn:
                self._check_etag(conn, account.name, attachment.rid, if_match)
                self._check_quota(conn, account, staged.size, attachment.rid)
                self._bump(conn, account.name)
                self.store.place_blob(staged)
                properties = {**attachment.properties, "contentType": media_type}
                conn.execute("UPDATE cosmos_resources SET blob = ?, media_type = ?, media_size = ?, etag = ?, ts = ?, "
                             "properties = ? WHERE account = ? AND rid = ?",
                             (staged.digest, media_type, staged.size, new_etag(), now, json.dumps(properties),
                              account.name, attachment.rid))
                if attachment.blob and attachment.blob != staged.digest:
                    self.store.free_blobs(conn, [attachment.blob])
        finally:
            staged.path.unlink(missing_ok=True)
        return self.by_rid(account.name, attachment.rid)  # type: ignore[return-value]

    def delete(self, account: Account, resource: Resource, if_match: str | None = None) -> None:
        """Delete a resource and everything under it; NotFound if another request deleted it first."""
        with self.store.write() as conn:
            self._check_etag(conn, account.name, resource.rid, if_match)
            rows = conn.execute(
                "WITH RECURSIVE tree(rid) AS (SELECT rid FROM cosmos_resources WHERE account = ?1 AND rid = ?2 "
                "UNION ALL SELECT r.rid FROM cosmos_resources r JOIN tree ON r.parent = tree.rid "
                "WHERE r.account = ?1) "
                "DELETE FROM cosmos_resources WHERE account = ?1 AND rid IN (SELECT rid FROM tree) RETURNING blob",
                (account.name, resource.rid)).fetchall()
            if not rows:
                raise CosmosError("NotFound")
            self._bump(conn, account.name)
            self.store.free_blobs(conn, [b for (b,) in rows if b])

    # -- helpers (inside a write transaction) ----------------------------------------------------

    @staticmethod
    def _check_etag(conn: sqlite3.Connection, account: str, rid: str, if_match: str | None) -> None:
        """NotFound if the resource is gone; PreconditionFailed if `if_match` is given and is not its etag."""
        current = conn.execute("SELECT etag FROM cosmos_resources WHERE account = ? AND rid = ?",
                               (account, rid)).fetchone()
        if current is None:
            raise CosmosError("NotFound")
        if if_match is not None and if_match not in (current[0], current[0].strip('"'), "*"):
            raise CosmosError("PreconditionFailed")

    @staticmethod
    def _check_parent(conn: sqlite3.Connection, account: str, parent: str) -> None:
        if parent and conn.execute("SELECT 1 FROM cosmos_resources WHERE account = ? AND rid = ?",
                                   (account, parent)).fetchone() is None:
            raise CosmosError("NotFound")

    @staticmethod
    def _check_quota(conn: sqlite3.Connection, account: Account, size: int, replacing: str | None) -> None:
        used = conn.execute("SELECT COALESCE(SUM(media_size), 0) FROM cosmos_resources WHERE account = ? "
                            "AND rid != COALESCE(?, '')", (account.name, replacing)).fetchone()[0]
        if size > account.max_media_bytes or used + size > account.media_quota_mb * MB:
            raise CosmosError("RequestEntityTooLarge", "The attachment media exceeds the size allowed for one "
                              f"attachment ({account.max_media_bytes} bytes) or the account's media storage quota "
                              f"({account.media_quota_mb} MB).")

    @staticmethod
    def _bump(conn: sqlite3.Connection, account: str) -> None:
        conn.execute("UPDATE cosmos_accounts SET lsn = lsn + 1 WHERE name = ?", (account,))

    @staticmethod
    def _new_rid(conn: sqlite3.Connection, account: str, parent: str, kind: str) -> str:
        """The next free child rid of `parent` (skipping rids with `/`, which cannot stand in a URL)."""
        while True:
            if parent:
                [(counter,)] = conn.execute("UPDATE cosmos_resources SET children = children + 1 WHERE account = ? "
                                            "AND rid = ? RETURNING children", (account, parent)).fetchall()
            else:
                [(counter,)] = conn.execute("UPDATE cosmos_accounts SET children = children + 1 WHERE name = ? "
                                            "RETURNING children", (account,)).fetchall()
            rid = rids.child_rid(parent, kind, counter)
            if rids.url_safe(rid) and conn.execute("SELECT 1 FROM cosmos_resources WHERE account = ? AND rid = ?",
                                                   (account, rid)).fetchone() is None:
                return rid
