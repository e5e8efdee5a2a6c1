"""The Zoho products' queries: tokens, users, records and attachments (SQL only, no rules), and their fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from ..ids import new_token
from .blobs import StagedBlob
from .core import Connection, StoreError
from .seeding import FixtureWriter

if TYPE_CHECKING:  # the fixture classes import marshmallow: a server on a seeded state never needs it
    from ..fixtures import Fixtures, OrgFixture


@dataclass(frozen=True)
class TokenRow:
    """An access token joined with its user and org."""

    org: str
    user: str
    scopes: str
    expires_at: int | None
    revoked: bool
    dc: str
    time_zone: str
    permissions: str | None
    restricted: bool


@dataclass(frozen=True)
class UserRef:
    """A user as Zoho shows one inside a record: `{"name","id","email"}`."""

    id: str
    name: str
    email: str


@dataclass(frozen=True)
class AttachmentRow:
    """An attachment with its parent record and the users it names."""

    id: str
    record_id: str
    record_name: str
    module: str
    file_name: str
    size: int
    content_type: str
    link_url: str | None
    blob: str | None
    owner: UserRef | None
    created_by: UserRef | None
    modified_by: UserRef | None
    created_time: int
    modified_time: int


class StoreConflict(StoreError):
    """A write that the state refuses: `record` (the parent is gone) or `link` (the link already exists)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


_ATTACHMENT_SELECT = """
SELECT a.id, a.record_id, r.name, r.module, a.file_name, a.size, a.content_type, a.link_url, a.blob,
       a.owner, ou.name, ou.email, a.created_by, cu.name, cu.email, a.modified_by, mu.name, mu.email,
       a.created_time, a.modified_time
FROM attachments a
JOIN records r ON r.org = a.org AND r.product = a.product AND r.id = a.record_id
LEFT JOIN users ou ON ou.org = a.org AND ou.id = a.owner
LEFT JOIN users cu ON cu.org = a.org AND cu.id = a.created_by
LEFT JOIN users mu ON mu.org = a.org AND mu.id = a.modified_by
WHERE a.org = ? AND a.product = ? AND a.record_id = ?"""


# An attachment (?4) of a record (?3) of a module (?5), in an org (?1) and product (?2).
_LIVE_ATTACHMENT = ("org = ?1 AND product = ?2 AND record_id = ?3 AND id = ?4 AND EXISTS "
                    "(SELECT 1 FROM records WHERE org = ?1 AND product = ?2 AND id = ?3 AND module = ?5)")


def _attachment_row(row: Sequence) -> AttachmentRow:
    def user(i: int) -> UserRef | None:
        return None if row[i] is None or row[i + 1] is None else UserRef(row[i], row[i + 1], row[i + 2])
    return AttachmentRow(*row[:9], owner=user(9), created_by=user(12), modified_by=user(15),
                         created_time=row[18], modified_time=row[19])


def issue_refresh_token(conn: Connection, client: str, org: str, user: str, scopes: str) -> str:
    """A new refresh token of `client` for a user (inside the caller's write transaction)."""
    token = new_token()
    conn.execute("INSERT INTO refresh_tokens(token, client, org, user_id, scopes) VALUES (?, ?, ?, ?, ?)",
                 (token, client, org, user, scopes))
    return token


def issue_access_token(conn: Connection, org: str, user: str, scopes: str, expires_at: int,
                       refresh: str | None) -> str:
    """A new access token for a user, tied to the refresh token it came from (inside a write transaction)."""
    token = new_token()
    conn.execute("INSERT INTO tokens(token, org, user_id, scopes, expires_at, refresh_token) VALUES (?, ?, ?, ?, ?, ?)",
                 (token, org, user, scopes, expires_at, refresh))
    return token


def _epoch(moment: object) -> int | None:
    return None if moment is None else int(moment.timestamp())  # type: ignore[attr-defined]


TOKEN_CACHE = 1024  # tokens a worker keeps at most between two changes of the credentials


class ZohoQueries(FixtureWriter):
    """What the Zoho engine reads and writes."""

    def modules(self, product: str) -> list[tuple[str, str, bool, bool, str, list[dict]]]:
        """The fixture-declared modules of a product: api name, scope name, supported, attachments, name, and the
        specs of its custom fields."""
        return [(a, s, bool(sup), bool(att), n, json.loads(f)) for a, s, sup, att, n, f in self.connection().execute(
            "SELECT api_name, scope_name, api_supported, attachments, module_name, fields FROM modules "
            "WHERE product = ?", (product,))]

    def find_token(self, token: str, credentials: int | None = None) -> TokenRow | None:
        """The access token with its user and org, or None if unknown. Given the state view's `credentials`
        counter, a token found before under the same counter comes from this thread's cache."""
        if credentials is None:
            return self._query_token(token)
        local = self._local
        if getattr(local, "credentials", None) != credentials or len(local.tokens) >= TOKEN_CACHE:
            local.credentials, local.tokens = credentials, {}
        row = local.tokens.get(token)
        if row is None:
            row = self._query_token(token)
            if row is not None:  # unknown tokens are not kept: nobody can grow the cache at will
                local.tokens[token] = row
        return row

    def _query_token(self, token: str) -> TokenRow | None:
        row = self.connection().execute(
            "SELECT t.org, t.user_id, t.scopes, t.expires_at, t.revoked, o.dc, o.time_zone, u.permissions, "
            "u.restricted FROM tokens t JOIN orgs o ON o.id = t.org JOIN users u ON u.org = t.org AND u.id = t.user_id "
            "WHERE t.token = ?", (token,)).fetchone()
        return None if row is None else TokenRow(*row)

    def org_of_credential(self, value: str) -> str | None:
        """The org an access or refresh token, or a grant code, belongs to."""
        row = self.connection().execute(
            "SELECT org FROM tokens WHERE token = ?1 UNION ALL SELECT org FROM refresh_tokens WHERE token = ?1 "
            "UNION ALL SELECT org FROM grant_codes WHERE code = ?1 LIMIT 1", (value,)).fetchone()
        return None if row is None else row[0]

    def record_module(self, org: str, product: str, record_id: str) -> str | None:
        """The module of a live record, or None if there is no such record."""
        row = self.connection().execute(
            "SELECT module FROM records WHERE org = ? AND product = ? AND id = ?",
            (org, product, record_id)).fetchone()
        return None if row is None else row[0]

    def user_may_act(self, org: str, user: str, record_id: str) -> bool:
        """True if a restricted user was granted this record."""
        return self.connection().execute(
            "SELECT 1 FROM user_records WHERE org = ? AND user_id = ? AND record_id = ?",
            (org, user, record_id)).fetchone() is not None

    def user(self, org: str, user_id: str) -> UserRef | None:
        """A user of an org, or None."""
        row = self.connection().execute(
            "SELECT id, name, email FROM users WHERE org = ? AND id = ?", (org, user_id)).fetchone()
        return None if row is None else UserRef(*row)

    def users(self, org: str) -> list[UserRef]:
        """Every user of an org, in fixture order."""
        return [UserRef(*row) for row in self.connection().execute(
            "SELECT id, name, email FROM users WHERE org = ? ORDER BY rowid", (org,))]

    def org(self, org: str) -> tuple[str, str, str]:
        """An org's name, data centre and time zone."""
        return self.connection().execute("SELECT name, dc, time_zone FROM orgs WHERE id = ?", (org,)).fetchone()

    def list_attachments(self, org: str, product: str, record_id: str, offset: int,
                         limit: int) -> list[AttachmentRow]:
        """A page of a record's attachments, newest first."""
        rows = self.connection().execute(
            _ATTACHMENT_SELECT + " ORDER BY a.created_time DESC, a.id DESC LIMIT ? OFFSET ?",
            (org, product, record_id, limit, offset)).fetchall()
        return [_attachment_row(row) for row in rows]

    def find_attachment(self, org: str, product: str, record_id: str, attachment_id: str) -> AttachmentRow | None:
        """One attachment of a record, or None."""
        row = self.connection().execute(_ATTACHMENT_SELECT + " AND a.id = ?",
                                        (org, product, record_id, attachment_id)).fetchone()
        return None if row is None else _attachment_row(row)

    def add_attachment(self, org: str, product: str, record_id: str, *, file_name: str, content_type: str,
                       staged: StagedBlob | None, link_url: str | None, user: str, now: int) -> str:
        """Add a file (staged) or link attachment in one transaction and return its new id.

        Raises StoreConflict if the record is gone or the link is already attached to it.
        """
        with self.write_blobs(staged) as (conn, _):
            if conn.execute("SELECT 1 FROM records WHERE org = ? AND product = ? AND id = ?",
                            (org, product, record_id)).fetchone() is None:
                raise StoreConflict("record")
            if link_url is not None and conn.execute(
                    "SELECT 1 FROM attachments WHERE org = ? AND product = ? AND record_id = ? AND link_url = ?",
                    (org, product, record_id, link_url)).fetchone() is not None:
                raise StoreConflict("link")
            new_id = self._next_id(conn, org, product)
            conn.execute("INSERT INTO attachments(org, product, id, record_id, file_name, size, content_type, "
                         "link_url, blob, owner, created_by, modified_by, created_time, modified_time) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                             org, product, new_id, record_id, file_name, 0 if staged is None else staged.size,
                             content_type, link_url, None if staged is None else staged.digest, user, user, user,
                             now, now))
        return new_id

    def new_id(self, org: str | None, product: str | None) -> str:
        """A new 19-digit id from the shared counter (for a stub's answer), taken by no record or attachment."""
        with self.write() as conn:
            return self._next_id(conn, org or "", product or "")

    def _next_id(self, conn: Connection, org: str, product: str) -> str:
        """The next 19-digit id: the seed's prefix and a counter shared by every worker."""
        prefix = conn.execute("SELECT value FROM meta WHERE key = 'id_prefix'").fetchone()[0]
        while True:
            [(counter,)] = conn.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) "
                                        "WHERE key = 'id_counter' RETURNING value").fetchall()
            candidate = f"{prefix}{int(counter):012d}"
            taken = conn.execute(
                "SELECT 1 FROM attachments WHERE org = ? AND product = ? AND id = ? UNION ALL "
                "SELECT 1 FROM records WHERE org = ? AND product = ? AND id = ?",
                (org, product, candidate, org, product, candidate)).fetchone()
            if taken is None:
                return candidate

    def delete_attachment(self, org: str, product: str, module: str, record_id: str, attachment_id: str) -> bool:
        """Delete one attachment of a live record of `module`; True if it was there. A miss is settled by a read:
        it takes no write lock, so it queues behind no writer of any worker."""
        params = (org, product, record_id, attachment_id, module)
        if self.connection().execute(f"SELECT 1 FROM attachments WHERE {_LIVE_ATTACHMENT}", params).fetchone() is None:
            return False
        with self.write_blobs() as (conn, dropped):
            rows = conn.execute(f"DELETE FROM attachments WHERE {_LIVE_ATTACHMENT} RETURNING blob", params).fetchall()
            dropped.update(blob for (blob,) in rows if blob)
        return bool(rows)

    def delete_attachments(self, org: str, product: str, record_id: str, ids: Sequence[str]) -> list[bool]:
        """Delete attachments of a record in one transaction; True for each id that existed."""
        with self.write_blobs() as (conn, dropped):
            outcome: list[bool] = []
            for attachment_id in ids:
                rows = conn.execute(
                    "DELETE FROM attachments WHERE org = ? AND product = ? AND record_id = ? AND id = ? "
                    "RETURNING blob", (org, product, record_id, attachment_id)).fetchall()
                outcome.append(bool(rows))
                dropped.update(blob for (blob,) in rows if blob)
        return outcome

    def delete_records(self, org: str, product: str, module: str, ids: Sequence[str],
                       restricted_user: str | None) -> list[str]:
        """Delete records and their attachments in one transaction.

        Returns per id `deleted`, `missing` or `forbidden` (a restricted user not granted the record).
        """
        with self.write_blobs() as (conn, dropped):
            outcome: list[str] = []
            for record_id in ids:
                exists = conn.execute(
                    "SELECT 1 FROM records WHERE org = ? AND product = ? AND module = ? AND id = ?",
                    (org, product, module, record_id)).fetchone()
                if exists is None:
                    outcome.append("missing")
                    continue
                if restricted_user is not None and not self.user_may_act(org, restricted_user, record_id):
                    outcome.append("forbidden")
                    continue
                notes = [note for (note,) in conn.execute(
                    "SELECT record_id FROM record_values WHERE org = ? AND product = ? AND module = 'Notes' "
                    f"AND field = 'parent_id' AND value = {self.db.dialect.value}", (org, product, record_id))]
                for gone in (record_id, *notes):  # a record's notes go with it, and their attachments too
                    dropped.update(blob for (blob,) in conn.execute(
                        "DELETE FROM attachments WHERE org = ? AND product = ? AND record_id = ? RETURNING blob",
                        (org, product, gone)).fetchall() if blob)
                    conn.execute("DELETE FROM record_values WHERE org = ? AND product = ? AND record_id = ?",
                                 (org, product, gone))
                    conn.execute("DELETE FROM records WHERE org = ? AND product = ? AND id = ?", (org, product, gone))
                outcome.append("deleted")
        return outcome

    # -- seeding ---------------------------------------------------------------------------------

    def _write_fixtures(self, conn: Connection, fixtures: Fixtures) -> None:
        """The orgs of the fixtures with their users, tokens, records and attachments; the OAuth clients; the
        modules of each product."""
        for org in fixtures.orgs:
            self._insert_org(conn, org)
        conn.executemany("INSERT INTO clients(id, secret, dc, redirect_uris, org, user_id) VALUES (?, ?, ?, ?, ?, ?)", [
            (c.id, c.secret, c.dc, "\n".join(c.redirect_uris), c.org, c.user) for c in fixtures.clients])
        conn.executemany("INSERT INTO modules(product, api_name, scope_name, api_supported, attachments, module_name, "
                         "fields) VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (product, m.api_name, m.scope_name, int(m.api_supported), int(m.attachments), m.module_name,
             json.dumps([f.spec() for f in m.custom_fields]))
            for product, modules in fixtures.modules.items() for m in modules])
        super()._write_fixtures(conn, fixtures)

    def _insert_org(self, conn: Connection, org: OrgFixture) -> None:
        """One fixture org's rows, its attachments' bytes placed as blobs."""
        conn.execute("INSERT INTO fixture_orgs(id, name, dc, time_zone, template) VALUES (?, ?, ?, ?, NULL)",
                     (org.id, org.name, org.dc, org.time_zone))
        conn.executemany("INSERT INTO fixture_users(org, id, name, email, permissions, restricted) "
                         "VALUES (?, ?, ?, ?, ?, ?)", [
            (org.id, u.id, u.name, u.email, None if u.permissions is None else ",".join(sorted(u.permissions)),
             int(u.records is not None)) for u in org.users])
        conn.executemany("INSERT INTO fixture_user_records(org, user_id, record_id) VALUES (?, ?, ?)", [
            (org.id, u.id, r) for u in org.users for r in sorted(u.records or ())])
        conn.executemany("INSERT INTO fixture_tokens(token, org, user_id, scopes, expires_at, revoked, refresh_token) "
                         "VALUES (?, ?, ?, ?, ?, ?, NULL)", [
            (t.token, org.id, t.user, t.scopes, _epoch(t.expires_at), int(t.revoked)) for t in org.tokens])
        conn.executemany("INSERT INTO fixture_refresh_tokens(token, client, org, user_id, scopes, revoked) "
                         "VALUES (?, ?, ?, ?, ?, 0)", [
            (t.token, t.client, org.id, t.user, t.scopes) for t in org.refresh_tokens])
        for product, records in org.records.items():
            conn.executemany("INSERT INTO fixture_records(org, product, id, module, name, owner, created_time, "
                             "modified_time, data, created_by, modified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, r.id, r.module, r.name, r.owner, _epoch(r.created_time), _epoch(r.modified_time),
                 json.dumps(r.data), r.owner, r.owner) for r in records])
            conn.executemany("INSERT INTO fixture_record_values(org, product, module, field, value, record_id) "
                             f"VALUES (?, ?, ?, ?, {self.db.dialect.value}, ?) ON CONFLICT DO NOTHING", [
                (org.id, product, r.module, name, value, r.id) for r in records for name, value in r.index])
            conn.executemany("INSERT INTO fixture_attachments(org, product, id, record_id, file_name, size, "
                             "content_type, link_url, blob, owner, created_by, modified_by, created_time, "
                             "modified_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (org.id, product, a.id, r.id, a.file_name, a.size, a.content_type, a.link_url,
                 None if a.content is None else self.put_blob(a.content), a.owner, a.owner, a.owner,
                 _epoch(a.created_time), _epoch(a.modified_time))
                for r in records for a in r.attachments])
