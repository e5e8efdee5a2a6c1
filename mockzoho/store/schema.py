"""The state's SQLite schema: live tables, their pristine copies (what a reset restores), and the control tables."""

from __future__ import annotations

import sqlite3
from functools import cache

# 14: PostgreSQL keeps a blob's bytes in parts (nothing changed for SQLite); 13: no column named as an SQL keyword
# (user, offset, window); 12: stubs; 11: changed_records, so that a reset copies back only the records requests changed
SCHEMA_VERSION = "14"
_RECORD_COLUMNS = ("data TEXT NOT NULL DEFAULT '{}'", "created_by TEXT", "modified_by TEXT")
_STUB_COUNT = "ALTER TABLE counters ADD COLUMN stubs INTEGER NOT NULL DEFAULT 0"
# PostgreSQL reserves these words: the columns were renamed so that one statement serves both databases.
_RENAMED = (*(f"ALTER TABLE {t} RENAME COLUMN user TO user_id" for t in (
    "user_records", "tokens", "refresh_tokens", "clients", "grant_codes", "fixture_user_records", "fixture_tokens",
    "fixture_refresh_tokens")), "ALTER TABLE counters RENAME COLUMN offset TO shift",
    "ALTER TABLE limits RENAME COLUMN window TO span")
# How a SQLite state file of an older layout becomes this one, in one transaction (SQLite renames the triggers' uses
# too); tables and indexes new in a version are made by `statements()` afterwards. PostgreSQL's are its own.
UPGRADES = {
    "8": ("ALTER TABLE clock RENAME TO counters", "ALTER TABLE counters RENAME COLUMN seed TO reset_frozen",
          *(f"ALTER TABLE {t} ADD COLUMN {c}" for t in ("records", "fixture_records") for c in _RECORD_COLUMNS),
          "ALTER TABLE modules ADD COLUMN fields TEXT NOT NULL DEFAULT '[]'", _STUB_COUNT, *_RENAMED),
    "9": (*(f"ALTER TABLE {t} ADD COLUMN {c}" for t in ("records", "fixture_records") for c in _RECORD_COLUMNS),
          "ALTER TABLE modules ADD COLUMN fields TEXT NOT NULL DEFAULT '[]'", _STUB_COUNT, *_RENAMED),
    "10": (_STUB_COUNT, *_RENAMED),
    "11": (_STUB_COUNT, *_RENAMED),
    "12": _RENAMED,
    "13": (),
}
# After any upgrade every record counts as changed: no trigger watched the writes made before it.
UPGRADED_CHANGES = ("INSERT INTO changed_records(org, product, id) SELECT org, product, id FROM records "
                    "UNION SELECT org, product, id FROM fixture_records WHERE true ON CONFLICT DO NOTHING")

LIVE = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, dc TEXT NOT NULL, time_zone TEXT NOT NULL,
    template TEXT);                      -- the fixture org a clone was made from, NULL for fixture orgs
CREATE TABLE IF NOT EXISTS users(
    org TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    permissions TEXT,                    -- comma-separated, NULL for every permission
    restricted INTEGER NOT NULL,         -- 1: may act only on the records in user_records
    PRIMARY KEY(org, id));
CREATE TABLE IF NOT EXISTS user_records(
    org TEXT NOT NULL, user_id TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY(org, user_id, record_id));
CREATE TABLE IF NOT EXISTS tokens(
    token TEXT PRIMARY KEY, org TEXT NOT NULL, user_id TEXT NOT NULL, scopes TEXT NOT NULL,
    expires_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0,
    refresh_token TEXT);                 -- the refresh token it was issued from, if any
CREATE INDEX IF NOT EXISTS tokens_by_refresh ON tokens(refresh_token) WHERE refresh_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_by_org ON tokens(org);
CREATE TABLE IF NOT EXISTS refresh_tokens(
    token TEXT PRIMARY KEY, client TEXT NOT NULL, org TEXT NOT NULL, user_id TEXT NOT NULL,
    scopes TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS records(
    org TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL, module TEXT NOT NULL, name TEXT NOT NULL,
    owner TEXT, created_time INTEGER NOT NULL, modified_time INTEGER NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',     -- the field values as JSON (lookups by id), system fields aside
    created_by TEXT, modified_by TEXT,
    PRIMARY KEY(org, product, id));
CREATE INDEX IF NOT EXISTS records_by_module ON records(org, product, module, id);
CREATE INDEX IF NOT EXISTS records_by_created ON records(org, product, module, created_time, id);
CREATE INDEX IF NOT EXISTS records_by_modified ON records(org, product, module, modified_time, id);
CREATE TABLE IF NOT EXISTS record_values(  -- every field value of every record, for search, uniqueness, lookups
    org TEXT NOT NULL, product TEXT NOT NULL, module TEXT NOT NULL,
    field TEXT NOT NULL,                 -- the field's API name in lower case
    value NOT NULL,                      -- text in lower case, numbers as numbers, times as epoch seconds
    record_id TEXT NOT NULL,
    PRIMARY KEY(org, product, module, field, value, record_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_values_by_record ON record_values(org, product, record_id);
CREATE TABLE IF NOT EXISTS changed_records(  -- records inserted, changed or deleted since the last reset (triggers)
    org TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(org, product, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments(
    org TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL, record_id TEXT NOT NULL,
    file_name TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL, link_url TEXT,
    blob TEXT, owner TEXT, created_by TEXT, modified_by TEXT,
    created_time INTEGER NOT NULL, modified_time INTEGER NOT NULL,
    PRIMARY KEY(org, product, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attachments_by_record ON attachments(org, product, record_id, created_time, id);
CREATE INDEX IF NOT EXISTS attachments_by_link ON attachments(org, product, record_id, link_url)
    WHERE link_url IS NOT NULL;
CREATE INDEX IF NOT EXISTS attachments_by_blob ON attachments(blob) WHERE blob IS NOT NULL;
CREATE TABLE IF NOT EXISTS clients(
    id TEXT PRIMARY KEY, secret TEXT NOT NULL, dc TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,         -- newline-separated globs
    org TEXT NOT NULL, user_id TEXT NOT NULL);  -- who consents on the demo authorize page
CREATE TABLE IF NOT EXISTS modules(
    product TEXT NOT NULL, api_name TEXT NOT NULL, scope_name TEXT NOT NULL, api_supported INTEGER NOT NULL,
    attachments INTEGER NOT NULL, module_name TEXT NOT NULL,
    fields TEXT NOT NULL DEFAULT '[]',   -- the custom fields the fixtures add, as JSON
    PRIMARY KEY(product, api_name));
CREATE TABLE IF NOT EXISTS grant_codes(
    code TEXT PRIMARY KEY, client TEXT NOT NULL, org TEXT NOT NULL, user_id TEXT NOT NULL,
    scopes TEXT NOT NULL, redirect_uri TEXT NOT NULL, offline INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS counters(  -- one row: the server clock and the counters every request reads first
    frozen REAL,                         -- a fixed time, or NULL for the real time
    shift REAL NOT NULL,                 -- seconds added to the real time
    reset_frozen REAL,                   -- what a reset sets `frozen` back to
    generation INTEGER NOT NULL,         -- bumped when the fixtures are replaced: workers reload modules
    faults INTEGER NOT NULL DEFAULT 0,   -- how many faults are set: none, no fault lookup per request
    limits INTEGER NOT NULL DEFAULT 0,   -- how many orgs have rate limits
    stubs INTEGER NOT NULL DEFAULT 0,    -- how many stubs are set
    credentials INTEGER NOT NULL DEFAULT 0);  -- bumped by any change to tokens, users or orgs (triggers)
CREATE TABLE IF NOT EXISTS faults(
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, org TEXT,
    remaining INTEGER,                   -- calls left to fail, NULL when a probability decides
    hits INTEGER NOT NULL DEFAULT 0);    -- matching calls seen, the index into the seeded sequence
CREATE TABLE IF NOT EXISTS stubs(
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, org TEXT,
    remaining INTEGER,                   -- calls left to answer, NULL for every call
    hits INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL);               -- api, fixtures or recorded (a reset keeps recorded ones)
CREATE TABLE IF NOT EXISTS fixture_stubs(  -- the fixtures' stubs, in their order: a reset sets them again
    position INTEGER PRIMARY KEY, spec TEXT NOT NULL, org TEXT);
CREATE TABLE IF NOT EXISTS cosmos_accounts(
    name TEXT PRIMARY KEY, keys TEXT NOT NULL,   -- newline-separated master keys
    verify INTEGER NOT NULL, media_quota_mb INTEGER NOT NULL, max_media_bytes INTEGER NOT NULL,
    lsn INTEGER NOT NULL,                -- bumped by every write: etags and session tokens
    children INTEGER NOT NULL,           -- databases made so far, for the next database rid
    position INTEGER NOT NULL);          -- fixture order: the first account is the default one
CREATE TABLE IF NOT EXISTS cosmos_resources(
    account TEXT NOT NULL, rid TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT NOT NULL, id TEXT NOT NULL,
    properties TEXT NOT NULL,            -- the user's JSON properties (id and system properties aside)
    etag TEXT NOT NULL, ts INTEGER NOT NULL,
    blob TEXT, media_type TEXT, media_size INTEGER NOT NULL DEFAULT 0,  -- managed attachment media
    children INTEGER NOT NULL DEFAULT 0, -- children made so far, for the next child rid
    PRIMARY KEY(account, rid), UNIQUE(account, parent, kind, id));
CREATE INDEX IF NOT EXISTS cosmos_by_blob ON cosmos_resources(blob) WHERE blob IS NOT NULL;
CREATE TABLE IF NOT EXISTS limits(
    org TEXT PRIMARY KEY, calls INTEGER, span REAL, concurrency INTEGER,
    window_start REAL NOT NULL DEFAULT 0, used INTEGER NOT NULL DEFAULT 0, inflight INTEGER NOT NULL DEFAULT 0);
"""

# Tables a reset restores, and the column naming each row's org (None: the rows belong to no org, and only a reset
# of everything restores them).
PRISTINE: dict[str, str | None] = {
    "orgs": "id", "users": "org", "user_records": "org", "tokens": "org", "refresh_tokens": "org", "records": "org",
    "record_values": "org", "attachments": "org", "cosmos_accounts": None, "cosmos_resources": None}
# Pristine tables a reset restores record by record: only the rows of the records in `changed_records` (a reset of
# 100,000 leads after a few writes must not copy 1.8 million rows back), each table with its record id column.
BY_RECORD = {"records": "id", "record_values": "record_id"}
# Fixture tables no reset restores: only a replacement of the fixtures writes them again.
REPLACED = ("clients", "modules", "fixture_stubs")


# Workers keep the tokens they have seen (with their user and org) while this counter stands still.
CREDENTIAL_TABLES = ("tokens", "users", "orgs")
CREDENTIAL_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()} AFTER {event} ON {table} BEGIN "
    "UPDATE counters SET credentials = credentials + 1; END"
    for table in CREDENTIAL_TABLES for event in ("INSERT", "UPDATE", "DELETE")]


# Every write to `records` (the store writes `record_values` only beside one) notes the record as changed.
CHANGE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS records_changed_{event.lower()} AFTER {event} ON records BEGIN "
    f"INSERT OR IGNORE INTO changed_records(org, product, id) VALUES ({row}.org, {row}.product, {row}.id); END"
    for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))]


def statements() -> list[str]:
    """Every statement that creates the schema, pristine copies included (all idempotent)."""
    result = [s for s in LIVE.split(";") if s.strip()] + CREDENTIAL_TRIGGERS + CHANGE_TRIGGERS
    for table, org_column in PRISTINE.items():
        result.append(f"CREATE TABLE IF NOT EXISTS fixture_{table} AS SELECT * FROM {table} WHERE 0")
        if table in BY_RECORD:  # the records a reset copies back, found by id (and an org's, by the prefix)
            result.append(f"CREATE INDEX IF NOT EXISTS fixture_{table}_by_record ON fixture_{table}"
                          f"(org, product, {BY_RECORD[table]})")
        elif org_column is not None:
            result.append(f"CREATE INDEX IF NOT EXISTS fixture_{table}_by_org ON fixture_{table}({org_column})")
    result.append("CREATE INDEX IF NOT EXISTS fixture_attachments_by_blob ON fixture_attachments(blob)")
    result.append("CREATE INDEX IF NOT EXISTS fixture_cosmos_by_blob ON fixture_cosmos_resources(blob)")
    return result


@cache
def has_rowid(table: str) -> bool:
    """Whether SQLite gives the table an implicit rowid, the order its rows were inserted in (a pristine copy has
    one whatever its table has: SQLite's CREATE ... AS makes a plain table; PostgreSQL's copy has what the table
    has)."""
    table = table.removeprefix("fixture_")
    made = next(s for s in statements() if f"CREATE TABLE IF NOT EXISTS {table}(" in s)
    return "WITHOUT ROWID" not in made and "AUTOINCREMENT" not in made


@cache
def columns() -> dict[str, tuple[str, ...]]:
    """Every table's columns in order, pristine copies included, read off the schema itself (laid out once in
    memory), so that no list of them is written twice."""
    conn = sqlite3.connect(":memory:")
    try:
        for statement in statements():
            conn.execute(statement)
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: tuple(row[1] for row in conn.execute(f"PRAGMA table_info({table})")) for table in tables}
    finally:
        conn.close()
