"""The Cosmos DB emulation's SQL: accounts, the resource tree and attachment media, and their fixtures (the rules
are `cosmos.models'`)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from .blobs import StagedBlob
from .core import LARGEST_INTEGER, Connection, StoreError
from .seeding import FixtureWriter

if TYPE_CHECKING:  # the fixture classes import marshmallow: a server on a seeded state never needs it
    from ..fixtures import AccountFixture, Fixtures


class AccountRow(NamedTuple):
    """An account: its master keys, whether signatures are checked, its media limits and its write counter."""

    name: str
    keys: list[str]
    verify: bool
    media_quota_mb: int
    max_media_bytes: int
    lsn: int


class ResourceRow(NamedTuple):
    """A database, collection, document or attachment, its properties decoded."""

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


class ResourceGone(StoreError):
    """The resource, or the parent named, is not there (another request may have deleted it)."""


class ResourceIdTaken(StoreError):
    """The parent already has another child of that kind with that id."""


EtagCheck = Callable[[str], None]  # given the resource's etag inside the write, refuses it by raising
MediaCheck = Callable[[int, int], None]  # given the account's other media bytes and the new media's size, likewise
RidFor = Callable[[int], "str | None"]  # the rid of a parent's n-th child, or None if that one cannot be used

_RESOURCE = ", ".join(ResourceRow._fields)


def _resource_row(row: tuple) -> ResourceRow:
    kind, rid, parent, id_, properties, *rest = row
    return ResourceRow(kind, rid, parent, id_, json.loads(properties), *rest)


def _new_etag() -> str:
    """A quoted GUID: new on every write, and never one a client held before a reset."""
    return f'"{uuid.uuid4()}"'


class CosmosQueries(FixtureWriter):
    """What the Cosmos DB API reads and writes; each write is one transaction that bumps the account's lsn."""

    def cosmos_accounts(self) -> list[AccountRow]:
        """Every account, in fixture order."""
        return [AccountRow(name, keys.split("\n"), bool(verify), *rest) for name, keys, verify, *rest in
                self.connection().execute("SELECT name, keys, verify, media_quota_mb, max_media_bytes, lsn "
                                          "FROM cosmos_accounts ORDER BY position")]

    def cosmos_media_usage(self, account: str) -> int:
        """Bytes of managed media the account holds."""
        return self._other_media(self.connection(), account, None)

    def cosmos_resource(self, account: str, rid: str) -> ResourceRow | None:
        row = self.connection().execute(f"SELECT {_RESOURCE} FROM cosmos_resources WHERE account = ? AND rid = ?",
                                        (account, rid)).fetchone()
        return None if row is None else _resource_row(row)

    def cosmos_resource_by_id(self, account: str, parent: str, kind: str, id_: str) -> ResourceRow | None:
        row = self.connection().execute(
            f"SELECT {_RESOURCE} FROM cosmos_resources WHERE account = ? AND parent = ? AND kind = ? AND id = ?",
            (account, parent, kind, id_)).fetchone()
        return None if row is None else _resource_row(row)

    def cosmos_children(self, account: str, parent: str, kind: str, offset: int,
                        limit: int | None) -> list[ResourceRow]:
        """Children of a kind in creation order, from `offset`, at most `limit` (None: all)."""
        rows = self.connection().execute(
            f"SELECT {_RESOURCE} FROM cosmos_resources WHERE account = ? AND parent = ? AND kind = ? "
            "ORDER BY rowid LIMIT ? OFFSET ?", (account, parent, kind, LARGEST_INTEGER if limit is None else limit,
                                                offset))
        return [_resource_row(r) for r in rows]

    def put_cosmos_resource(self, account: str, parent: str, kind: str, id_: str, properties: dict[str, Any],
                            now: int, *, upsert: bool, staged: StagedBlob | None, media_type: str | None,
                            check_media: MediaCheck, rid_for: RidFor) -> tuple[str, bool]:
        """Create a resource (or, with `upsert`, replace the one with that id, media and all): its rid and whether
        it is new. ResourceGone if the parent is gone, ResourceIdTaken if the id is and `upsert` is not given;
        `check_media` judges staged media."""
        with self.write_blobs(staged) as (conn, dropped):
            self._check_parent(conn, account, parent)
            existing = conn.execute("SELECT rid, blob FROM cosmos_resources WHERE account = ? AND parent = ? "
                                    "AND kind = ? AND id = ?", (account, parent, kind, id_)).fetchone()
            if existing is not None and not upsert:
                raise ResourceIdTaken(id_)
            if staged is not None:
                check_media(self._other_media(conn, account, None if existing is None else existing[0]), staged.size)
            self._bump(conn, account)
            blob, size = (None, 0) if staged is None else (staged.digest, staged.size)
            if existing is not None:
                rid, old_blob = existing
                conn.execute("UPDATE cosmos_resources SET properties = ?, etag = ?, ts = ?, blob = ?, "
                             "media_type = ?, media_size = ? WHERE account = ? AND rid = ?",
                             (json.dumps(properties), _new_etag(), now, blob, media_type, size, account, rid))
                if old_blob:
                    dropped.add(old_blob)
            else:
                rid = self._new_rid(conn, account, parent, rid_for)
                conn.execute("INSERT INTO cosmos_resources(account, rid, kind, parent, id, properties, etag, ts, "
                             "blob, media_type, media_size, children) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                             (account, rid, kind, parent, id_, json.dumps(properties), _new_etag(), now, blob,
                              media_type, size))
        return rid, existing is None

    def replace_cosmos_resource(self, account: str, rid: str, id_: str, properties: dict[str, Any], now: int,
                                check_etag: EtagCheck) -> None:
        """Replace a resource's properties and id: ResourceGone if it is gone, ResourceIdTaken if another child of
        its parent has that id; `check_etag` judges its etag first."""
        with self.write() as conn:
            self._check_etag(conn, account, rid, check_etag)
            if conn.execute("SELECT 1 FROM cosmos_resources o JOIN cosmos_resources r ON r.account = o.account "
                            "AND r.parent = o.parent AND r.kind = o.kind WHERE r.account = ? AND r.rid = ? "
                            "AND o.id = ? AND o.rid != r.rid", (account, rid, id_)).fetchone():
                raise ResourceIdTaken(id_)
            self._bump(conn, account)
            conn.execute("UPDATE cosmos_resources SET id = ?, properties = ?, etag = ?, ts = ? "
                         "WHERE account = ? AND rid = ?", (id_, json.dumps(properties), _new_etag(), now, account, rid))

    def replace_cosmos_media(self, account: str, rid: str, staged: StagedBlob, media_type: str,
                             properties: dict[str, Any], now: int, check_etag: EtagCheck,
                             check_media: MediaCheck) -> None:
        """Replace the media (and the properties) of a managed attachment: ResourceGone if it is gone;
        `check_etag` judges its etag first, then `check_media` the media."""
        with self.write_blobs(staged) as (conn, dropped):
            old_blob = self._check_etag(conn, account, rid, check_etag)
            check_media(self._other_media(conn, account, rid), staged.size)
            self._bump(conn, account)
            conn.execute("UPDATE cosmos_resources SET blob = ?, media_type = ?, media_size = ?, etag = ?, ts = ?, "
                         "properties = ? WHERE account = ? AND rid = ?",
                         (staged.digest, media_type, staged.size, _new_etag(), now, json.dumps(properties), account,
                          rid))
            if old_blob:
                dropped.add(old_blob)

    def delete_cosmos_resource(self, account: str, rid: str, check_etag: EtagCheck) -> None:
        """Delete a resource and everything under it: ResourceGone if it is gone; `check_etag` judges it first."""
        with self.write_blobs() as (conn, dropped):
            self._check_etag(conn, account, rid, check_etag)
            rows = conn.execute(
                "WITH RECURSIVE tree(rid) AS (SELECT rid FROM cosmos_resources WHERE account = ?1 AND rid = ?2 "
                "UNION ALL SELECT r.rid FROM cosmos_resources r JOIN tree ON r.parent = tree.rid "
                "WHERE r.account = ?1) "
                "DELETE FROM cosmos_resources WHERE account = ?1 AND rid IN (SELECT rid FROM tree) RETURNING blob",
                (account, rid)).fetchall()
            if not rows:
                raise ResourceGone(rid)
            self._bump(conn, account)
            dropped.update(blob for (blob,) in rows if blob)

    # -- seeding ---------------------------------------------------------------------------------

    def _write_fixtures(self, conn: Connection, fixtures: Fixtures) -> None:
        """The Cosmos DB accounts of the fixtures, each with its resource tree and media."""
        for position, account in enumerate(fixtures.cosmos):
            self._insert_cosmos_account(conn, account, position)
        super()._write_fixtures(conn, fixtures)

    def _insert_cosmos_account(self, conn: Connection, account: AccountFixture, position: int) -> None:
        """One fixture account's rows, its media placed as blobs; `position` is its place in the fixtures."""
        resources = account.resources
        children = Counter(r.parent for r in resources)
        conn.execute("INSERT INTO fixture_cosmos_accounts(name, keys, verify, media_quota_mb, max_media_bytes, lsn, "
                     "children, position) VALUES (?, ?, ?, ?, ?, 0, ?, ?)", (
            account.name, "\n".join(account.keys), int(account.verify), account.media_quota_mb,
            account.max_media_bytes, sum(r.kind == "dbs" for r in resources), position))
        conn.executemany("INSERT INTO fixture_cosmos_resources(account, rid, kind, parent, id, properties, etag, ts, "
                         "blob, media_type, media_size, children) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (account.name, r.rid, r.kind, r.parent, r.id, json.dumps(r.properties),
             f'"{uuid.uuid5(uuid.NAMESPACE_URL, f"{account.name}/{r.rid}")}"', int(time.time()),
             None if r.content is None else self.put_blob(r.content), r.content_type if r.content is not None
             else None, 0 if r.content is None else len(r.content), children[r.rid])
            for r in resources])

    # -- helpers (inside a write transaction) ----------------------------------------------------

    @staticmethod
    def _check_etag(conn: Connection, account: str, rid: str, check: EtagCheck) -> str | None:
        """Let `check` judge the resource's etag; its blob. ResourceGone if it is gone."""
        current = conn.execute("SELECT etag, blob FROM cosmos_resources WHERE account = ? AND rid = ?",
                               (account, rid)).fetchone()
        if current is None:
            raise ResourceGone(rid)
        check(current[0])
        return current[1]

    @staticmethod
    def _check_parent(conn: Connection, account: str, parent: str) -> None:
        if parent and conn.execute("SELECT 1 FROM cosmos_resources WHERE account = ? AND rid = ?",
                                   (account, parent)).fetchone() is None:
            raise ResourceGone(parent)

    @staticmethod
    def _other_media(conn: Connection, account: str, replacing: str | None) -> int:
        """Bytes of media the account holds besides the resource `replacing` (if any)."""
        return conn.execute("SELECT CAST(COALESCE(SUM(media_size), 0) AS BIGINT) FROM cosmos_resources "
                            "WHERE account = ? "
                            "AND rid != COALESCE(?, '')", (account, replacing)).fetchone()[0]

    @staticmethod
    def _bump(conn: Connection, account: str) -> None:
        conn.execute("UPDATE cosmos_accounts SET lsn = lsn + 1 WHERE name = ?", (account,))

    @staticmethod
    def _new_rid(conn: Connection, account: str, parent: str, rid_for: RidFor) -> str:
        """The next free child rid of `parent` (of the account, for a database) that `rid_for` gives."""
        while True:
            if parent:
                [(counter,)] = conn.execute("UPDATE cosmos_resources SET children = children + 1 WHERE account = ? "
                                            "AND rid = ? RETURNING children", (account, parent)).fetchall()
            else:
                [(counter,)] = conn.execute("UPDATE cosmos_accounts SET children = children + 1 WHERE name = ? "
                                            "RETURNING children", (account,)).fetchall()
            rid = rid_for(counter)
            if rid is not None and conn.execute("SELECT 1 FROM cosmos_resources WHERE account = ? AND rid = ?",
                                                (account, rid)).fetchone() is None:
                return rid
