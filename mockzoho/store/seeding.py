"""Fixtures in the state: seeding once, resets, replacing the fixtures, and isolated clones of an org.

The fixtures are kept in `fixture_*` tables beside the live ones, so that any worker can restore them with
one INSERT ... SELECT per table, and a clone is a copy of a fixture org's rows under a new org id.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Iterator

from ..ids import id_prefix, new_client_id, new_token
from .blobs import Blobs
from .core import Connection, Location, StateError, StoreError
from .journal import Journal
from .schema import BY_RECORD, PRISTINE, REPLACED, SCHEMA_VERSION, UPGRADED_CHANGES, columns, has_rowid

if TYPE_CHECKING:  # the fixture classes import marshmallow: a server on a seeded state never needs it
    from ..fixtures import Fixtures

log = logging.getLogger(__name__)

RECORD_TABLES = ("user_records", "records", "record_values", "attachments")  # what an empty clone leaves out
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


def _copy_of(table: str, where: str) -> str:
    """An INSERT of the table's fixture rows (those `where` picks) into the live table, column by column, in their
    order (what a table with no key of its own lists by)."""
    names = ", ".join(columns()[table])
    return f"INSERT INTO {table}({names}) SELECT {names} FROM fixture_{table}{where}{_in_order(table)}"


def _in_order(table: str) -> str:
    """`ORDER BY rowid` for a table that is listed in insertion order, else nothing."""
    return " ORDER BY rowid" if has_rowid(table) else ""


def _scope(org: str | None) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """The pristine tables of one org (None: all of them), each with the condition that picks its rows (empty for
    all) and the condition's arguments."""
    for table, column in PRISTINE.items():
        if org is None:
            yield table, "", ()
        elif column is not None:
            yield table, f"{column} = ?", (org,)


class FixtureWriter(Blobs):
    """What each family's store module adds to seeding: its part of the fixtures, written into the `fixture_*`
    tables by an override of `_write_fixtures` that calls super(), so that the Store, made of them all, writes
    every part; `_restored` is chained the same way for what a reset restores beside the fixture tables."""

    def _write_fixtures(self, conn: Connection, fixtures: Fixtures) -> None:
        """The end of the chain: nothing more to write."""

    def _restored(self, conn: Connection, org: str | None) -> None:
        """After the fixture rows of one org (None: all) are copied back: what a family restores beside them (the
        control state's stubs). The end of the chain."""


class Seeding(FixtureWriter):
    """Loading, restoring and cloning the fixtures, and forgetting the journal of what they replace."""

    def __init__(self, location: Location) -> None:
        super().__init__(location)
        self.journal = Journal(self.db.journal())

    def close(self) -> None:
        super().close()
        self.journal.close()

    def seed(self, fixtures: Fixtures, id_seed: int = 0, clock: float | None = None) -> bool:
        """Load the fixtures once per state file, atomically; return True if this call seeded it."""
        with self.write() as conn:
            for statement in self.db.schema():
                conn.execute(statement)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta:
                self._check_schema(meta)
                self.keep_seeded(meta.get("fixture_digest"), fixtures.digest)
                return False
            conn.execute("INSERT INTO counters(frozen, shift, reset_frozen, generation) VALUES (?, 0, ?, 0)",
                         (clock, clock))
            self._write_fixtures(conn, fixtures)
            self._restore(conn, None)
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("schema", SCHEMA_VERSION), ("fixture_digest", fixtures.digest),
                ("id_prefix", str(id_prefix(id_seed))), ("id_counter", "0")])
        self.journal.clear()  # a state made anew has no past: a journal left beside it is not its own
        return True

    def keep_seeded(self, seeded: str | None, digest: str) -> None:
        """The state stays as seeded; say so if that was from other fixtures than these (`digest`)."""
        if seeded != digest:
            log.warning("state %s was seeded from other fixtures; keeping it (use --fresh to reseed)", self.name)

    def seeded_digest(self) -> str | None:
        """The digest of the fixtures this state was seeded from, or None if it was not seeded yet."""
        meta = self.db.meta()
        if meta is None:  # nothing laid out yet
            return None
        if meta.get("schema") in self.db.upgrades:
            self._upgrade_schema()
        elif meta:
            self._check_schema(meta)
        return meta.get("fixture_digest")

    def _upgrade_schema(self) -> None:
        """Bring a state file of an older layout up to this one, keeping what it holds."""
        with self.write() as conn:  # another worker may have upgraded it meanwhile: look again under the lock
            (schema,) = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            for statement in self.db.upgrades.get(schema, ()):
                conn.execute(statement)
            for statement in self.db.schema():  # the tables and indexes that are new in this layout
                conn.execute(statement)
            conn.execute(UPGRADED_CHANGES)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))

    def _check_schema(self, meta: dict[str, str]) -> None:
        """Refuse a state file that another version of mockzoho laid out."""
        if meta.get("schema") != SCHEMA_VERSION:
            raise StateError(f"{self.name} was written by another mockzoho version "
                             f"(schema {meta.get('schema')}); start with --fresh or another state path")

    def replace_fixtures(self, fixtures: Fixtures) -> None:
        """Make `fixtures` the fixtures and the state, in one transaction; clones, faults and the journal go too."""
        with self.journal.cleared_after(), self.write_blobs() as (conn, dropped):
            dropped.update(self.blobs_in_use(conn))
            for table in (*(f"fixture_{table}" for table in PRISTINE), *REPLACED):
                conn.execute(f"DELETE FROM {table}")
            self._write_fixtures(conn, fixtures)
            self._reset_all(conn, changed_only=False)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'fixture_digest'", (fixtures.digest,))
            conn.execute("UPDATE counters SET generation = generation + 1")

    def reset(self, org: str | None = None) -> None:
        """Back to the fixtures: everything (clones removed), or one org (a clone back to its template); then
        sweep what crashed uploads left. UnknownOrg if there is no such org."""
        with self.journal.cleared_after(org), self.write_blobs() as (conn, dropped):
            dropped.update(self._blobs_outside_fixtures(conn, org))
            if org is None:
                self._reset_all(conn, changed_only=True)
            elif not self._is_org(conn, org):
                raise UnknownOrg(org)
            else:
                self._restore(conn, org, changed_only=True)
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
            for table, condition, args in _scope(org):
                conn.execute(f"DELETE FROM {table} WHERE {condition}", args)
                conn.execute(f"DELETE FROM fixture_{table} WHERE {condition}", args)
            conn.execute("DELETE FROM clients WHERE org = ?", (org,))
            conn.execute("DELETE FROM stubs WHERE org = ?", (org,))
            self._forget_org(conn, org)

    def org_ids(self) -> list[tuple[str, str | None]]:
        """Every org and the fixture org it was cloned from (None for fixture orgs)."""
        return self.connection().execute("SELECT id, template FROM fixture_orgs ORDER BY rowid").fetchall()

    # -- helpers (inside a write transaction) ----------------------------------------------------

    def _reset_all(self, conn: Connection, changed_only: bool) -> None:
        """Everything back to the fixtures, clones removed; of the records, with `changed_only`, only those
        changed since the last reset are copied back (the others are the fixture rows already)."""
        clones = "(SELECT id FROM fixture_orgs WHERE template IS NOT NULL)"
        conn.execute(f"DELETE FROM clients WHERE org IN {clones}")
        conn.execute(f"DELETE FROM stubs WHERE org IN {clones}")  # recorded ones too: their org is gone
        for table, column in PRISTINE.items():
            if column is not None and table != "orgs":
                for rows in (table, f"fixture_{table}"):
                    conn.execute(f"DELETE FROM {rows} WHERE {column} IN {clones}")
        conn.execute("DELETE FROM fixture_orgs WHERE template IS NOT NULL")
        self._restore(conn, None, changed_only)
        for table in RUNTIME_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE counters SET frozen = reset_frozen, shift = 0, faults = 0, limits = 0")
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'id_counter'")

    def _restore(self, conn: Connection, org: str | None, changed_only: bool = False) -> None:
        """Copy the fixture rows (of one org, or all, those of no org included) over the live ones; of the
        records, with `changed_only`, only those noted in `changed_records`. Then none is noted any more. The
        fixtures' stubs are set again."""
        noted = " WHERE org = ?" if org is not None else ""
        for table, condition, args in _scope(org):
            where = f" WHERE {condition}" if condition else ""
            if changed_only and table in BY_RECORD:
                key = f"(org, product, {BY_RECORD[table]})"
                where = f" WHERE {key} IN (SELECT org, product, id FROM changed_records{noted})"
            conn.execute(f"DELETE FROM {table}{where}", args)
            conn.execute(_copy_of(table, where), args)
        conn.execute(f"DELETE FROM changed_records{noted}", () if org is None else (org,))
        self._restored(conn, org)

    @staticmethod
    def _forget_org(conn: Connection, org: str) -> None:
        """Drop an org's grant codes, faults and rate limits."""
        for table in RUNTIME_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE org = ?", (org,))
        conn.execute("UPDATE counters SET faults = (SELECT COUNT(*) FROM faults), "
                     "limits = (SELECT COUNT(*) FROM limits), stubs = (SELECT COUNT(*) FROM stubs)")

    @staticmethod
    def _clone_clients(conn: Connection, template: str, clone: str) -> dict[str, dict[str, str]]:
        """A client of the clone's own for each of the template's, so that the grants that name an org (client
        credentials, consent) get a run no token for another run's org. The clone's fixture refresh tokens stay
        with the template's client, as client code configured with the fixtures' client id expects."""
        clients: dict[str, dict[str, str]] = {}
        for (old,) in conn.execute("SELECT id FROM clients WHERE org = ? ORDER BY rowid", (template,)).fetchall():
            new = {"client_id": new_client_id(), "client_secret": secrets.token_hex(20)}
            conn.execute("INSERT INTO clients(id, secret, dc, redirect_uris, org, user_id) SELECT ?, ?, dc, "
                         "redirect_uris, ?, user_id FROM clients WHERE id = ?",
                         (new["client_id"], new["client_secret"], clone, old))
            clients[old] = new
        return clients

    @staticmethod
    def _is_org(conn: Connection, org: str) -> bool:
        return conn.execute("SELECT 1 FROM fixture_orgs WHERE id = ?", (org,)).fetchone() is not None

    @staticmethod
    def _copy_rows(conn: Connection, source: str, target: str, org_column: str, old: str, new: str,
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
                     f"WHERE {where}{_in_order(source)}", args)

    @staticmethod
    def _blobs_outside_fixtures(conn: Connection, org: str | None) -> set[str]:
        """Blobs of live rows (of one org, or all) that no fixture row of their table keeps."""
        stale: set[str] = set()
        for table, condition, args in _scope(org):
            if "blob" in columns()[table]:
                of_org = f" AND {condition}" if condition else ""
                stale.update(b for (b,) in conn.execute(
                    f"SELECT DISTINCT blob FROM {table} WHERE blob IS NOT NULL{of_org} AND blob NOT IN "
                    f"(SELECT blob FROM fixture_{table} WHERE blob IS NOT NULL)", args))
        return stale
