"""A typed filter tree over `record_values`, and the parameterized SQL condition that selects its records.

The models turn a parsed search criteria into this tree, with field names lower-cased and values normalized as
`record_values` holds them (text lower-cased, numbers as numbers, times as epoch seconds, dates as 'YYYY-MM-DD').
No text of the tree ever enters the SQL string: fields and values are all `?` parameters. How a value is compared is
the database's dialect (`dialect.py`); the shape of the query is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .dialect import SQLITE, Dialect

Value = Union[str, int, float]

# The comparison each operator makes on a column (`{c}`) with its parameters (`{v}`, as the dialect compares a
# value), with the number of parameters it takes (None: one per value). The rest are the dialect's own.
_COMPARISONS: dict[str, tuple[str, int | None]] = {
    "equals": ("{c} = {v}", 1),
    "not_equal": ("{c} = {v}", 1),  # negated around the subquery: records without the value, empty ones included
    "greater_than": ("{c} > {v}", 1),
    "greater_equal": ("{c} >= {v}", 1),
    "less_than": ("{c} < {v}", 1),
    "less_equal": ("{c} <= {v}", 1),
    "between": ("{c} >= {v} AND {c} <= {v}", 2),  # inclusive, as Zoho's between is
    "in": ("", None),
    "starts_with": ("", 1),
    "contains": ("", 1),  # a word search: no index serves it
    "ends_with": ("", 1),  # the value given twice
    "present": ("TRUE", 0),  # records holding any value in the field
}
MAX_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)  # not text SQLite can hold: the successor of U+D7FF is U+E000


@dataclass(frozen=True)
class Match:
    """Records whose `field` (lower-cased) holds a value the operator accepts."""

    field: str
    operator: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class AllOf:
    """Records every part matches."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class AnyOf:
    """Records some part matches."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    """Records the part does not match."""

    part: Filter


@dataclass(frozen=True)
class Through:
    """Records whose lookup `field` (lower-cased) points to a record of `module` that `part` matches."""

    field: str
    module: str
    part: Filter


Filter = Union[Match, AllOf, AnyOf, Not, Through]


def where_clause(tree: Filter, org: str, product: str, module: str,
                 dialect: Dialect = SQLITE) -> tuple[str, list[Value]]:
    """A SQL condition over the alias `r` (the `records` table) selecting the records `tree` matches, and its
    parameters in order. The caller still restricts `r` to the org, product and module."""
    if isinstance(tree, Match):
        return _match(tree, [org, product, module], dialect)
    if isinstance(tree, Not):
        clause, params = where_clause(tree.part, org, product, module, dialect)
        return f"NOT ({clause})", params
    if isinstance(tree, Through):
        inner, params = where_clause(tree.part, org, product, tree.module, dialect)
        # The inner `r` is the target module's records: SQL resolves the alias to the nearest FROM.
        return ("r.id IN (SELECT record_id FROM record_values WHERE org = ? AND product = ? AND module = ? "
                f"AND field = ? AND value IN (SELECT {dialect.as_value('r.id')} FROM records r WHERE r.org = ? "
                f"AND r.product = ? AND r.module = ? AND ({inner})))"), [
                    org, product, module, tree.field, org, product, tree.module, *params]
    joiner, empty = (" AND ", "TRUE") if isinstance(tree, AllOf) else (" OR ", "FALSE")
    if not tree.parts:
        return empty, []
    clauses, params = [], []
    parts = tree.parts
    if isinstance(tree, AnyOf):
        # The matches of an OR become one `r.id IN (... UNION ALL ...)`: SQLite serves that from the index, where
        # `r.id IN (a) OR r.id IN (b)` makes it scan every record of the module (an email search is such an OR).
        kept = _positive_matches(tree)
        if len(kept) > 1:
            subqueries = [_subquery(m, [org, product, module], dialect) for m in kept]
            clauses.append(f"r.id IN ({' UNION ALL '.join(sql for sql, _ in subqueries)})")
            params.extend(value for _, values in subqueries for value in values)
            parts = tuple(p for p in _flattened(tree) if p not in kept)
            if not parts:
                return clauses[0], params
    for part in parts:
        clause, part_params = where_clause(part, org, product, module, dialect)
        clauses.append(f"({clause})")
        params.extend(part_params)
    return joiner.join(clauses), params


# Fields the server keeps in columns of `records`, not in `record_values` (owner and audit users by id, times as
# epoch seconds, as the index would hold them).
SYSTEM_COLUMNS = {"id": "id", "owner": "owner", "created_by": "created_by", "modified_by": "modified_by",
                  "created_time": "created_time", "modified_time": "modified_time"}


def _flattened(tree: AnyOf) -> tuple[Filter, ...]:
    """The parts of an OR, with those of the ORs inside it in their place."""
    return tuple(q for p in tree.parts for q in (_flattened(p) if isinstance(p, AnyOf) else (p,)))


def _positive_matches(tree: AnyOf) -> tuple[Match, ...]:
    """The matches an OR holds (in ORs inside it too) that select records holding a value (not `not_equal`)."""
    return tuple(p for p in _flattened(tree) if isinstance(p, Match) and p.operator != "not_equal")


def _match(match: Match, scope: list[Value], dialect: Dialect) -> tuple[str, list[Value]]:
    """`r.id [NOT] IN (...)` over the rows of one field: the subquery is a search on the primary key's prefix."""
    subquery, params = _subquery(match, scope, dialect)
    negate = "NOT " if match.operator == "not_equal" else ""
    return f"r.id {negate}IN ({subquery})", params


def _subquery(match: Match, scope: list[Value], dialect: Dialect) -> tuple[str, list[Value]]:
    """The ids of the records whose field holds a value the match compares equal (`not_equal`: the ids to leave
    out), and its parameters."""
    column = SYSTEM_COLUMNS.get(match.field)
    if column is not None:  # a column of `records`, compared as it is
        comparison, params = _comparison(match, column, "?", dialect)
        return f"SELECT id FROM records WHERE org = ? AND product = ? AND module = ? AND {comparison}", [
            *scope, *params]
    comparison, params = _comparison(match, "value", dialect.value, dialect)
    sql = ("SELECT record_id FROM record_values WHERE org = ? AND product = ? AND module = ? "
           f"AND field = ? AND {comparison}")
    return sql, [*scope, match.field, *params]


def _comparison(match: Match, column: str, value: str, dialect: Dialect) -> tuple[str, list[Value]]:
    """The condition on a column (`value`, or a system column) for one Match, with `value` the expression of a
    parameter compared with it, and its parameters."""
    if match.operator not in _COMPARISONS:
        raise ValueError(f"no such operator: {match.operator!r}")
    sql, count = _COMPARISONS[match.operator]
    if count == 0:
        return sql, []
    if not match.values or (count is not None and len(match.values) != count):
        raise ValueError(f"{match.operator} takes {count or 'some'} values, not {len(match.values)}")
    if match.operator == "in":
        return f"{column} IN ({', '.join([value] * len(match.values))})", list(match.values)
    if match.operator == "starts_with":
        return _prefix(match.values[0], column, dialect)
    if match.operator == "contains":
        return dialect.contains(column), list(match.values)
    if match.operator == "ends_with":
        return dialect.ends_with(column), [match.values[0], match.values[0]]
    return sql.format(c=column, v=value), list(match.values)


def _prefix(prefix: Value, column: str, dialect: Dialect) -> tuple[str, list[Value]]:
    """The condition that text starts with `prefix`, and its parameters (`successor` bounds SQLite's range)."""
    if not isinstance(prefix, str):
        raise ValueError(f"starts_with takes text, not {type(prefix).__name__}")
    return dialect.starts_with(column, prefix, successor(prefix))


def successor(prefix: str) -> str | None:
    """The least text above every text that starts with `prefix`, or None if there is none (empty, or all U+10FFFF)."""
    stem = prefix.rstrip(chr(MAX_CODE_POINT))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if following in SURROGATES:
        following = SURROGATES.stop
    return stem[:-1] + chr(following)
