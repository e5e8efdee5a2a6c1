"""Fixtures in the state: seeding once, resets, replacing the fixtures, and isolated clones of an org.

The fixtures are kept in `fixture_*` tables beside the live ones, so that any worker can restore them with
one INSERT ... SELECT per table, and a clone is a copy of a fixture org's rows under a new org id.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ..ids import id_prefix, new_client_id, new_token
from .blobs import Blobs
from .core import StateError, StoreError
from .journal import Journal
from .schema import COSMOS_PRISTINE, PRISTINE, SCHEMA_VERSION, columns, statements

if TYPE_CHECKING:  # the fixture classes import marshmallow: a server on a seeded state never needs it
    from ..cosmos.fixtures import AccountFixture
    from ..fixtures import Fixtures, OrgFixture

log = logging.getLogger(__name__)

RECORD_TABLES = ("user_records", "records", "attachments")  # what an empty clone leaves out
# What requests leave behind that is not a fixture: a reset forgets it (issued tokens go with the tokens table;
# the journal, in its own file, is cleared under its own lock held around the state's transaction).
RUNTIME_TABLES = ("grant_codes", "faults", "limits")


class OrgRefused(StoreError):
    """A call the state refuses for what it holds of the org `org`."""

    MESSAGE = "{org}"

    def __init__(self, org: str) -> None:
        self.org = org
        super().__init__(self.MESSAGE.format(org=org))


class UnknownOrg(OrgRefused):
    """No such org (to clone from: no such fixture org)."""

    MESSAGE = "no org {org!r}"


class OrgExists(OrgRefused):
    """A clone would take the id of an org that exists."""

    MESSAGE = "org {org!r} already exists"


class FixtureOrgProtected(OrgRefused):
    """A fixture org cannot be removed, only reset."""

    MESSAGE = "{org} is a fixture org: it can be reset, not removed"


def _copy_of(table: str) -> str:
    """An INSERT of the table's fixture rows into the live table, column by column (a WHERE may follow)."""
    names = ", ".join(columns()[table])
    return f"INSERT INTO {table}({names}) SELECT {names} FROM fixture_{table}"


def _epoch(moment: object) -> int | None:
    return None if moment is None else int(moment.timestamp())  # type: ignore[attr-defined]


class Seeding(Blobs):
    """Loading, restoring and cloning the fixtures, and forgetting the journal of what they replace."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.journal = Journal(self.path)

    def close(self) -> None:
        super().close()
        self.journal.close()

    def seed(self, fixtures: Fixtures, id_seed: int = 0, clock: float | None = None) -> bool:
        """Load the fixtures once per state file, atomically; return True if this call seeded it."""
        with self.write() as conn:
            for statement in statements():
                conn.execute(statement)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta:
                self._check_schema(meta)
                self.keep_seeded(meta.get("fixture_digest"), fixtures.digest)
                return False
            self._write_fixtures(conn, fixtures)
            self._restore(conn, None)
            conn.execute("INSERT INTO clock(frozen, offset, seed, generation) VALUES (?, 0, ?, 0)", (clock, clock))
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("schema", SCHEMA_VERSION), ("fixture_digest", fixtures.digest),
                ("id_prefix", str(id_prefix(id_seed))), ("id_counter", "0")])
        self.journal.clear()  # a state made anew has no past: a journal left beside it is not its own
        return True

    def keep_seeded(self, seeded: str | None, digest: str) -> None:
        """The state stays as seeded; say so if that was from other fixtures than these (`digest`)."""
        if seeded != digest:
            log.warning("state %s was seeded from other fixtures; keeping it (use --fresh to reseed)", self.path)

    def seeded_digest(self) -> str | None:
        """The digest of the fixtures this state was seeded from, or None if it was not seeded yet."""
        if not self.path.exists():
            return None
        try:
            meta = dict(self.connection().execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # a new, empty file
            return None
        if meta:
            self._check_schema(meta)
        return meta.get("fixture_digest")

    def _check_schema(self, meta: dict[str, str]) -> None:
        """Refuse a state file that another version of mockzoho laid out."""
        if meta.get("schema") != SCHEMA_VERSION:
            raise StateError(f"{self.path} was written by another mockzoho version "
                             f"(schema {meta.get('schema')}); start with --fresh or another state path")

    def replace_fixtures(self, fixtures: Fixtures) -> None:
        """Make `fixtures` the fixtures and the state, in one transaction; clones, faults and the journal go too."""
        with self.journal.cleared_after(), self.write_blobs() as (conn, dropped):
            dropped.update(self.blobs_in_use(conn))
            for table in (*PRISTINE, *COSMOS_PRISTINE):
                conn.execute(f"DELETE FROM fixture_{table}")
            for table in ("clients", "modules"):
                conn.execute(f"DELETE FROM {table}")
            self._write_fixtures(conn, fixtures)
            self._reset_all(conn)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'fixture_digest'", (fixtures.digest,))
            conn.execute("UPDATE clock SET generation = generation + 1")

    def reset(self, org: str | None = None) -> None:
        """Back to the fixtures: everything (clones removed), or one org (a clone back to its template); then
        sweep what crashed uploads left. UnknownOrg if there is no such org."""
        with self.journal.cleared_after(org), self.write_blobs() as (conn, dropped):
            dropped.update(self._blobs_outside_fixtures(conn, org))
            if org is None:
                self._reset_all(conn)
            elif not self._is_org(conn, org):
                raise UnknownOrg(org)
            else:
                self._restore(conn, org)
                self._forget_org(conn, org)
        self.sweep()

    def clone_org(self, template: str | None, new_id: str | None,
                  empty: bool) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
        """A new org made of a fixture org's users, tokens, OAuth clients and (unless `empty`) records and
        attachments.

        Returns its id, a map from each of the template's tokens (access and refresh) to the clone's, and one
        from each of the template's client ids to the clone's own client (`client_id`, `client_secret`).
        UnknownOrg if `template` is not a fixture org, OrgExists if `new_id` is taken.
        """
        with self.write() as conn:
            if template is None:
                row = conn.execute("SELECT id FROM fixture_orgs WHERE template IS NULL ORDER BY rowid").fetchone()
                template = row[0] if row else ""
            if conn.execute("SELECT 1 FROM fixture_orgs WHERE id = ? AND template IS NULL",
                            (template,)).fetchone() is None:
                raise UnknownOrg(template)
            new_id = new_id or f"{template}-{secrets.token_hex(4)}"
            if self._is_org(conn, new_id):
                raise OrgExists(new_id)
            conn.execute("INSERT INTO fixture_orgs(id, name, dc, time_zone, template) SELECT ?, name, dc, time_zone, ? "
                         "FROM fixture_orgs WHERE id = ?", (new_id, template, template))
            for table in ("users", *(() if empty else RECORD_TABLES)):
                self._copy_rows(conn, f"fixture_{table}", f"fixture_{table}", "org", template, new_id)
            tokens: dict[str, str] = {}
            for table in ("tokens", "refresh_tokens"):
                for (old,) in conn.execute(f"SELECT token FROM fixture_{table} WHERE org = ?", (template,)).fetchall():
                    tokens[old] = new_token()
                    self._copy_rows(conn, f"fixture_{table}", f"fixture_{table}", "org", template, new_id,
                                    where_token=old, new_token=tokens[old])
            clients = self._clone_clients(conn, template, new_id)
            self._restore(conn, new_id)
        return new_id, tokens, clients

    def delete_org(self, org: str) -> None:
        """Remove a clone and everything in it: UnknownOrg if there is no such org, FixtureOrgProtected for a
        fixture org (reset it instead)."""
        with self.journal.cleared_after(org), self.write_blobs() as (conn, dropped):
            row = conn.execute("SELECT template FROM fixture_orgs WHERE id = ?", (org,)).fetchone()
            if row is None:
                raise UnknownOrg(org)
            if row[0] is None:
                raise FixtureOrgProtected(org)
            dropped.update(self._blobs_outside_fixtures(conn, org))
            for table, column in PRISTINE.items():
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (org,))
                conn.execute(f"DELETE FROM fixture_{table} WHERE {column} = ?", (org,))
            conn.execute("DELETE FROM clients WHERE org = ?", (org,))
            self._forget_org(conn, org)

    def org_ids(self) -> list[tuple[str, str | None]]:
        """Every org and the fixture org it was cloned from (None for fixture orgs)."""
        return self.connection().execute("SELECT id, template FROM fixture_orgs ORDER BY rowid").fetchall()

    # -- helpers (inside a write transaction) ----------------------------------------------------

    def _reset_all(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM clients WHERE org IN (SELECT id FROM fixture_orgs WHERE template IS NOT NULL)")
        for table, column in PRISTINE.items():
            if table != "orgs":
                conn.execute(f"DELETE FROM fixture_{table} WHERE {column} IN "
                             "(SELECT id FROM fixture_orgs WHERE template IS NOT NULL)")
        conn.execute("DELETE FROM fixture_orgs WHERE template IS NOT NULL")
        self._restore(conn, None)
        for table in RUNTIME_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE clock SET frozen = seed, offset = 0, faults = 0, limits = 0")
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'id_counter'")

    def _restore(self, conn: sqlite3.Connection, org: str | None) -> None:
        """Copy the fixture rows (of one org, or all, Cosmos DB included) over the live ones."""
        for table in COSMOS_PRISTINE if org is None else ():
            conn.execute(f"DELETE FROM {table}")
            conn.execute(_copy_of(table))
        for table, column in PRISTINE.items():
            where, args = ("", ()) if org is None else (f" WHERE {column} = ?", (org,))
            conn.execute(f"DELETE FROM {table}{where}", args)
            conn.execute(_copy_of(table) + where, args)

    @staticmethod
    def _forget_org(conn: sqlite3.Connection, org: str) -> None:
        """Drop an org's grant codes, faults and rate limits."""
        for table in RUNTIME_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE org = ?", (org,))
        conn.execute("UPDATE clock SET faults = (SELECT COUNT(*) FROM faults), limits = (SELECT COUNT(*) FROM limits)")

    @staticmethod
    def _clone_clients(conn: sqlite3.Connection, template: str, clone: str) -> dict[str, dict[str, str]]:
        """A client of the clone's own for each of the template's, so that the grants that name an org (client
        credentials, consent) get a run no token for another run's org. The clone's fixture refresh tokens stay
        with the template's client, as client code configured with the fixtures' client id expects."""
        clients: dict[str, dict[str, str]] = {}
        for (old,) in conn.execute("SELECT id FROM clients WHERE org = ? ORDER BY rowid", (template,)).fetchall():
            new = {"client_id": new_client_id(), "client_secret": secrets.token_hex(20)}
            conn.execute("INSERT INTO clients(id, secret, dc, redirect_uris, org, user) SELECT ?, ?, dc, "
                         "redirect_uris, ?, user FROM clients WHERE id = ?",
                         (new["client_id"], new["client_secret"], clone, old))
            clients[old] = new
        return clients

    @staticmethod
    def _is_org(conn: sqlite3.Connection, org: str) -> bool:
        return conn.execute("SELECT 1 FROM fixture_orgs WHERE id = ?", (org,)).fetchone() is not None

    @staticmethod
    def _copy_rows(conn: sqlite3.Connection, source: str, target: str, org_column: str, old: str, new: str,
                   where_token: str | None = None, new_token: str | None = None) -> None:
        """Copy rows of org `old` as rows of org `new` (one token row, renamed, if `where_token`)."""
        exprs, args = [], []
        for column in columns()[source]:
            replacement = new if column == org_column else new_token if column == "token" and where_token else None
            exprs.append(column if replacement is None else "?")
            if replacement is not None:
                args.append(replacement)
        where, args = f"{org_column} = ?", [*args, old]
        if where_token:
            where, args = where + " AND token = ?", [*args, where_token]
        conn.execute(f"INSERT INTO {target}({', '.join(columns()[source])}) SELECT {', '.join(exprs)} FROM {source} "
                     f"WHERE {where}", args)

    @staticmethod
    def _blobs_outside_fixtures(conn: sqlite3.Connection, org: str | None) -> set[str]:
        """Blobs of live attachments (of one org, or all) that no fixture row keeps."""
        where, args = ("", ()) if org is None else (" AND org = ?", (org,))
        stale = {b for (b,) in conn.execute(
            f"SELECT DISTINCT blob FROM attachments WHERE blob IS NOT NULL{where} AND blob NOT IN "
            "(SELECT blob FROM fixture_attachments WHERE blob IS NOT NULL)", args)}
        if org is None:
            stale |= {b for (b,) in conn.execute(
                "SELECT DISTINCT blob FROM cosmos_resources WHERE blob IS NOT NULL AND blob NOT IN "
                "(SELECT blob FROM fixture_cosmos_resources WHERE blob IS NOT NULL)")}
        return stale

    def _write_fixtures(self, conn: sqlite3.Connection, fixtures: Fixtures) -> None:
        for org in fixtures.orgs:
            self._insert_org(conn, org)
        conn.executemany("INSERT INTO clients(id, secret, dc, redirect_uris, org, user) VALUES (?, ?, ?, ?, ?, ?)", [
            (c.id, c.secret, c.dc, "\n".join(c.redirect_uris), c.org, c.user) for c in fixtures.clients])
        conn.executemany("INSERT INTO modules(product, api_name, scope_name, api_supported, attachments, module_name) "
                         "VALUES (?, ?, ?, ?, ?, ?)", [
            (product, m.api_name, m.scope_name, int(m.api_supported), int(m.attachments), m.module_name)
            for product, modules in fixtures.modules.items() for m in modules])
        for position, account in enumerate(fixtures.cosmos):
            self._insert_cosmos_account(conn, account, position)

    def _insert_cosmos_account(self, conn: sqlite3.Connection, account: AccountFixture, position: int) -> None:
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

    def _insert_org(self, conn: sqlite3.Connection, org: OrgFixture) -> None:
        conn.execute("INSERT INTO fixture_orgs(id, name, dc, time_zone, template) VALUES (?, ?, ?, ?, NULL)",
                     (org.id, org.name, org.dc, org.time_zone))
        conn.executemany("INSERT INTO fixture_users(org, id, name, email, permissions, restricted) "
                         "VALUES (?, ?, ?, ?, ?, ?)", [
            (org.id, u.id, u.name, u.email, None if u.permissions is None else ",".join(sorted(u.permissions)),
             int(u.records is not None)) for u in org.users])
        conn.executemany("INSERT INTO fixture_user_records(org, user, record_id) VALUES (?, ?, ?)", [
            (org.id, u.id, r) for u in org.users for r in sorted(u.records or ())])
        conn.executemany("INSERT INTO fixture_tokens(token, org, user, scopes, expires_at, revoked, refresh_token) "
                         "VALUES (?, ?, ?, ?, ?, ?, NULL)", [
            (t.token, org.id, t.user, t.scopes, _epoch(t.expires_at), int(t.revoked)) for t in org.tokens])
        conn.executemany("INSERT INTO fixture_refresh_tokens(token, client, org, user, scopes, revoked) "
                         "VALUES (?, ?, ?, ?, ?, 0)", [
            (t.token, t.client, org.id, t.user, t.scopes) for t in org.refresh_tokens])
        for product, records in org.records.items():
            conn.executemany("INSERT INTO fixture_records(org, product, id, module, name, owner, created_time, "
                             "modified_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, r.id, r.module, r.name, r.owner, _epoch(r.created_time), _epoch(r.modified_time))
                for r in records])
            conn.executemany("INSERT INTO fixture_attachments(org, product, id, record_id, file_name, size, "
                             "content_type, link_url, blob, owner, created_by, modified_by, created_time, "
                             "modified_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, a.id, r.id, a.file_name, a.size, a.content_type, a.link_url,
                 None if a.content is None else self.put_blob(a.content), a.owner, a.owner, a.owner,
                 _epoch(a.created_time), _epoch(a.modified_time))
                for r in records for a in r.attachments])
