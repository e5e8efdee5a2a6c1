"""Records with their field values: reads, pages, and writes planned by the models and checked in one transaction
(uniqueness and lookups), so that two concurrent writes of one unique value give one success."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from .core import Connection, StoreError
from .dialect import Dialect
from .search import SYSTEM_COLUMNS, Filter, where_clause
from .seeding import FixtureWriter
from .zoho import UserRef

# What a listing may be sorted by: the columns behind Zoho's three sortable fields.
SORT_COLUMNS = {"id": "r.id", "created_time": "r.created_time", "modified_time": "r.modified_time"}
_RECORD_COLUMNS = ("SELECT r.id, r.module, r.name, r.owner, r.created_by, r.modified_by, r.created_time, "
                   "r.modified_time, ")
_RECORD_SELECT = f"{_RECORD_COLUMNS}r.data FROM records r"


class SumOverflow(StoreError):
    """A SUM of integers went past 64 bits."""


@dataclass(frozen=True)
class Group:
    """A field a grouped query groups by: its key, whether text groups without case, and the value an empty
    field counts as (a boolean's false), if any."""

    field: str
    fold_case: bool = False
    empty: Any = None


def _record_select(only: Sequence[str] | None, dialect: Dialect) -> tuple[str, list[str]]:
    """The SELECT of records reading the whole `data`, or (`only`) just those keys of it, as a JSON object built
    by the database: a page of three fields then decodes three values a record, not every one it holds."""
    if only is None:
        return _RECORD_SELECT, []
    return f"{_RECORD_COLUMNS}{dialect.picked(len(only))} FROM records r", [
        part for key in only for part in (key, dialect.data_key(key))]


@dataclass(frozen=True)
class RecordRow:
    """A record as the state keeps it: its field values (lookups by id) and its system fields."""

    id: str
    module: str
    name: str
    owner: str | None
    created_by: str | None
    modified_by: str | None
    created_time: int
    modified_time: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Reference:
    """A lookup (`module` None: any module) or user (`module` "users") that a write names and that must exist."""

    api_name: str
    module: str | None
    id: str


@dataclass(frozen=True)
class RecordWrite:
    """A record's whole new state, as the models built it from what was stored and what the caller sent."""

    data: dict[str, Any]
    name: str
    owner: str | None
    index: dict[str, list[Any]]                 # field (lower case) -> what search compares it by
    unique: tuple[str, ...] = ()                # fields (lower case) whose value no other record may hold
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Why the store did not write one record: `missing` (no such record), `duplicate` (`field` is held by
    `other`) or `reference` (`field` names nothing)."""

    reason: str
    field: str | None = None
    other: str | None = None


@dataclass(frozen=True)
class Saved:
    """A record written: its id and whether it was inserted or updated."""

    id: str
    inserted: bool
    row: RecordRow
    matched: str | None = None  # the match field (lower case) an update found its record by


@dataclass(frozen=True)
class RecordPlan:
    """One record of a write call: which record it updates (`target`, or the first record holding one of the
    `match` values, or none: an insert) and how its new state is built from the stored one (`build` returns a
    RecordWrite, or anything else to refuse the record with that)."""

    build: Callable[[RecordRow | None], Any]
    target: str | None = None
    match: tuple[tuple[str, Any], ...] = ()
    insert: bool = True  # False: a record that matches nothing is refused as `missing`


def _row(values: Sequence[Any]) -> RecordRow:
    return RecordRow(*values[:8], data=json.loads(values[8]))


_Key = Optional[tuple[str, list[Any]]]  # what a group is grouped and sorted by, if not its column: SQL, parameters
AGGREGATES = {"count": "COUNT", "sum": "SUM", "min": "MIN", "max": "MAX", "avg": "AVG"}


def _stored(field: str, dialect: Dialect) -> tuple[str, list[str]]:
    """A field's stored value in a row of `records r`: its column, or its key in `data` (a parameter)."""
    if field.lower() in SYSTEM_COLUMNS:
        return f"r.{SYSTEM_COLUMNS[field.lower()]}", []
    return dialect.stored, [dialect.data_key(field)]


def _sort_key(field: str, dialect: Dialect) -> str:
    """What sorts records by a field: its column for the system fields, else its least value as the index holds
    it (text in lower case, times as epoch seconds; none sorts first), its name a parameter."""
    if field.lower() in SYSTEM_COLUMNS:
        return f"r.{SYSTEM_COLUMNS[field.lower()]}"
    return (f"(SELECT {dialect.least}(v.value) FROM record_values v WHERE v.org = r.org AND v.product = r.product "
            "AND v.record_id = r.id AND v.field = ?)")


def _grouped(groups: Sequence[Group], dialect: Dialect) -> tuple[list[str], list[Any], list[_Key]]:
    """The columns a grouped query shows for its groups with their parameters, and per group what it is grouped
    and sorted by if not its column (a text group without case, in a dialect that cannot group a column it shows
    by its case-blind value), with its parameters."""
    select: list[str] = []
    params: list[Any] = []
    keys: list[_Key] = []
    for group in groups:
        expression, expression_params = _stored(group.field, dialect)
        if group.empty is not None:
            expression, expression_params = dialect.coalesced(expression, expression_params, group.empty)
        shown, key = dialect.folded(expression) if group.fold_case else (expression, None)
        select.append(shown)
        params.extend(expression_params)
        keys.append(None if key is None else (key, expression_params))
    return select, params, keys


def _chosen(dialect: Dialect, org: str, product: str, module: str, where: Filter | None,
            restricted_user: str | None, ids: Sequence[str] = (),
            modified_since: int | None = None) -> tuple[list[str], list[Any]]:
    """The conditions over `records r` that pick a listing's or a grouped query's records, and their parameters:
    the module, a restricted user's grants, the ids, the modified-since time, the filter."""
    clauses, params = ["r.org = ?", "r.product = ?", "r.module = ?"], [org, product, module]
    if restricted_user is not None:
        clauses.append("r.id IN (SELECT record_id FROM user_records WHERE org = ? AND user_id = ?)")
        params.extend((org, restricted_user))
    if ids:
        clauses.append(f"r.id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    if modified_since is not None:
        clauses.append("r.modified_time > ?")
        params.append(modified_since)
    if where is not None:
        condition, condition_params = where_clause(where, org, product, module, dialect)
        clauses.append(f"({condition})")  # an OR at its top must not escape the org, module and user terms
        params.extend(condition_params)
    return clauses, params


class RecordQueries(FixtureWriter):
    """What the records API reads and writes."""

    def record_counts(self) -> list[tuple[str, str, str, int, int]]:
        """How many records and attachments each org has, per product and module (a dashboard's overview)."""
        return self.connection().execute(
            "SELECT r.org, r.product, r.module, COUNT(*), "
            "(SELECT COUNT(*) FROM attachments a WHERE a.org = r.org AND a.product = r.product AND a.record_id IN "
            " (SELECT id FROM records WHERE org = r.org AND product = r.product AND module = r.module)) "
            "FROM records r GROUP BY r.org, r.product, r.module ORDER BY r.org, r.product, r.module").fetchall()

    def get_records(self, org: str, product: str, module: str, ids: Sequence[str]) -> dict[str, RecordRow]:
        """The records of a module with these ids that exist, by id."""
        marks = ", ".join("?" * len(ids))
        rows = self.connection().execute(
            f"{_RECORD_SELECT} WHERE r.org = ? AND r.product = ? AND r.module = ? AND r.id IN ({marks})",
            (org, product, module, *ids)).fetchall()
        return {row[0]: _row(row) for row in rows}

    def list_records(self, org: str, product: str, module: str, *, sort_by: str, descending: bool, offset: int,
                     limit: int, ids: Sequence[str] = (), modified_since: int | None = None,
                     where: Filter | None = None, restricted_user: str | None = None,
                     only: Sequence[str] | None = None, order_by: Sequence[tuple[str, bool]] = ()) -> list[RecordRow]:
        """A page of a module's records in order (`order_by`'s fields, lower-cased, each descending or not, then
        the id; else `sort_by`), those `where` matches if given, with the values of the `only` fields (None:
        all); a restricted user sees the records granted to them only."""
        dialect = self.db.dialect
        select, params = _record_select(only, dialect)
        clauses, clause_params = _chosen(dialect, org, product, module, where, restricted_user, ids, modified_since)
        params += clause_params
        direction = "DESC" if descending else "ASC"
        order = f"{SORT_COLUMNS[sort_by]} {direction}" + ("" if sort_by == "id" else f", r.id {direction}")
        if order_by:
            terms = [dialect.ordered(_sort_key(field, dialect), down) for field, down in order_by]
            order = ", ".join([*terms, "r.id ASC"])
            params.extend(field for field, _ in order_by if field.lower() not in SYSTEM_COLUMNS)
        rows = self.connection().execute(
            f"{select} WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, limit, offset)).fetchall()
        return [_row(row) for row in rows]

    def aggregate_records(self, org: str, product: str, module: str, *, groups: Sequence[Group],
                          functions: Sequence[tuple[str, str | None]], order_by: Sequence[tuple[int, bool]],
                          offset: int, limit: int, where: Filter | None = None,
                          restricted_user: str | None = None) -> list[tuple[Any, ...]]:
        """Rows of a grouped query: the stored value of each group field (keys of `data`, or the system fields),
        then each function (`count`, `sum`, `min`, `max`, `avg`) of a field (None: of the records), over the
        records `where` matches; sorted by `order_by`'s (result column, descending) pairs, then by the groups.
        SumOverflow if a running sum passes 64 bits (SQLite's SUM is exact or refuses)."""
        dialect = self.db.dialect
        select, params, keys = _grouped(groups, dialect)
        for function, field in functions:
            if field is None:
                select.append("COUNT(*)")
                continue
            expression, expression_params = _stored(field, dialect)
            select.append(dialect.aggregate(AGGREGATES[function], expression, field.lower() not in SYSTEM_COLUMNS))
            params.extend(expression_params)
        # A group's key, when not the column it shows, is a column of its own after the others (PostgreSQL cannot
        # tell two uses of one expression apart when their parameters differ): each is grouped and sorted by place.
        places = []
        for position, key in enumerate(keys, 1):
            if key is None:
                places.append(str(position))
            else:
                select.append(key[0])
                params.extend(key[1])
                places.append(str(len(select)))
        clauses, clause_params = _chosen(dialect, org, product, module, where, restricted_user)
        params += clause_params
        grouping = f" GROUP BY {', '.join(places)}" if groups else ""
        order = [dialect.ordered(places[column] if column < len(places) else str(column + 1), down)
                 for column, down in order_by]
        order += [dialect.ordered(place, False) for place in places]
        sql = (f"SELECT {', '.join(select)} FROM records r WHERE {' AND '.join(clauses)}{grouping}"
               + (f" ORDER BY {', '.join(order)}" if order else "") + " LIMIT ? OFFSET ?")
        try:
            rows = self.connection().execute(sql, (*params, limit, offset)).fetchall()
        except Exception as error:
            if not dialect.overflowed(error):
                raise
            raise SumOverflow() from None
        names = [AGGREGATES[function] if field is not None else "COUNT" for function, field in functions]
        shown = [dialect.aggregated(row[:len(groups) + len(functions)], names) for row in rows]
        if None in shown:
            raise SumOverflow()
        return shown

    def record_names(self, org: str, product: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The name and module of each of these records that exists, by id (what a lookup shows)."""
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        return {i: (name, module) for i, name, module in self.connection().execute(
            f"SELECT id, name, module FROM records WHERE org = ? AND product = ? AND id IN ({marks})",
            (org, product, *ids))}

    def users_by_id(self, org: str) -> dict[str, UserRef]:
        """Every user of an org, by id (what owner and audit fields show)."""
        return {u.id: u for u in self.users(org)}  # type: ignore[attr-defined]

    def save_records(self, org: str, product: str, module: str, plans: Sequence[RecordPlan], user: str, now: int,
                     grant: bool = False) -> list[Any]:
        """Carry out write plans in one transaction; per plan a Saved, a Refusal, or what its `build` refused
        with. Every plan is checked against the state as the earlier plans of the call left it. With `grant`,
        the records inserted are granted to `user` (a restricted user may act on what they created)."""
        with self.write_blobs() as (conn, _):
            outcomes = [self._save(conn, org, product, module, plan, user, now) for plan in plans]
            if grant:
                conn.executemany("INSERT INTO user_records(org, user_id, record_id) VALUES (?, ?, ?) "
                                 "ON CONFLICT DO NOTHING", [
                    (org, user, o.id) for o in outcomes if isinstance(o, Saved) and o.inserted])
            return outcomes

    def _save(self, conn: Connection, org: str, product: str, module: str, plan: RecordPlan, user: str,
              now: int) -> Any:
        existing, matched = self._planned_target(conn, org, product, module, plan)
        if existing is None and (plan.target is not None or not plan.insert):
            return Refusal("missing")
        write = plan.build(existing)
        if not isinstance(write, RecordWrite):
            return write
        refusal = self._check(conn, org, product, module, write, None if existing is None else existing.id)
        if refusal is not None:
            return refusal
        if existing is None:
            record_id = self._next_id(conn, org, product)  # type: ignore[attr-defined]
            conn.execute("INSERT INTO records(org, product, id, module, name, owner, created_time, modified_time, "
                         "data, created_by, modified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                             org, product, record_id, module, write.name, write.owner, now, now,
                             json.dumps(write.data), user, user))
        else:
            record_id = existing.id
            conn.execute("UPDATE records SET name = ?, owner = ?, modified_time = ?, data = ?, modified_by = ? "
                         "WHERE org = ? AND product = ? AND id = ?",
                         (write.name, write.owner, now, json.dumps(write.data), user, org, product, record_id))
            conn.execute("DELETE FROM record_values WHERE org = ? AND product = ? AND record_id = ?",
                         (org, product, record_id))
        conn.executemany("INSERT INTO record_values(org, product, module, field, value, record_id) "
                         f"VALUES (?, ?, ?, ?, {self.db.dialect.value}, ?) ON CONFLICT DO NOTHING", [
                             (org, product, module, name, value, record_id)
                             for name, values in write.index.items() for value in values])
        row = conn.execute(f"{_RECORD_SELECT} WHERE r.org = ? AND r.product = ? AND r.id = ?",
                           (org, product, record_id)).fetchone()
        return Saved(record_id, existing is None, _row(row), matched)

    def _planned_target(self, conn: Connection, org: str, product: str, module: str,
                        plan: RecordPlan) -> tuple[RecordRow | None, str | None]:
        """The record a plan updates (its target, or the first record holding one of its match values) and the
        match field that found it."""
        target, matched = plan.target, None
        for name, value in plan.match if target is None else ():
            found = conn.execute(
                "SELECT record_id FROM record_values WHERE org = ? AND product = ? AND module = ? AND field = ? "
                f"AND value = {self.db.dialect.value} ORDER BY record_id LIMIT 1",
                (org, product, module, name, value)).fetchone()
            if found is not None:
                target, matched = found[0], name
                break
        if target is None:
            return None, None
        row = conn.execute(f"{_RECORD_SELECT} WHERE r.org = ? AND r.product = ? AND r.module = ? AND r.id = ?",
                           (org, product, module, target)).fetchone()
        return (None, None) if row is None else (_row(row), matched)

    def _check(self, conn: Connection, org: str, product: str, module: str, write: RecordWrite,
               record_id: str | None) -> Refusal | None:
        """A refusal if a unique value is held by another record or a lookup names nothing."""
        for name in write.unique:
            for value in write.index.get(name, ()):
                other = conn.execute(
                    "SELECT record_id FROM record_values WHERE org = ? AND product = ? AND module = ? AND field = ? "
                    f"AND value = {self.db.dialect.value} AND record_id != ? LIMIT 1",
                    (org, product, module, name, value, record_id or "")).fetchone()
                if other is not None:
                    return Refusal("duplicate", name, other[0])
        for ref in write.references:
            if ref.module == "users":
                query, params = "SELECT 1 FROM users WHERE org = ? AND id = ?", (org, ref.id)
            else:
                query = "SELECT 1 FROM records WHERE org = ? AND product = ? AND id = ?" + (
                    "" if ref.module is None else " AND module = ?")
                params = (org, product, ref.id) if ref.module is None else (org, product, ref.id, ref.module)
            if conn.execute(query, params).fetchone() is None:
                return Refusal("reference", ref.api_name)
        return None
