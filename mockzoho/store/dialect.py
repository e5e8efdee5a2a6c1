"""The SQL that differs between the two databases, one class each: how an indexed value is compared, how a record's
`data` is read, and how the values of a field are ordered. Every other statement is written once, in the SQL both
speak; a query module asks its database's dialect for these pieces and nothing else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence, Union

from .core import LARGEST_INTEGER, SMALLEST_INTEGER


class SqliteDialect:
    """SQLite's: `record_values.value` holds text, integers and reals as they are (numbers sort below text)."""

    name = "sqlite"
    value = "?"  # an indexed value given as a parameter
    least = "MIN"  # the aggregate taking the least of indexed or stored values

    @staticmethod
    def as_value(column: str) -> str:
        """A text column (a record id) as an indexed value."""
        return column

    @staticmethod
    def contains(column: str) -> str:
        """The condition that text holds the parameter."""
        return f"typeof({column}) = 'text' AND instr({column}, ?) > 0"

    @staticmethod
    def ends_with(column: str) -> str:
        """The condition that text ends with the parameter (given twice)."""
        return f"typeof({column}) = 'text' AND substr({column}, -length(?)) = ?"

    @staticmethod
    def starts_with(column: str, prefix: str, upper: str | None) -> tuple[str, list[str]]:
        """The condition that text starts with `prefix`, and its parameters: a range on the index instead of LIKE
        (no wildcards to escape, no case folding, and the primary key serves it; SQLite compares text as UTF-8
        bytes, which sort as code points do), up to `upper`, the least text above the prefix's, if there is one."""
        if upper is None:  # only text values at or above the prefix remain: numbers sort below all text
            return f"{column} >= ? AND typeof({column}) = 'text'", [prefix]
        return f"{column} >= ? AND {column} < ?", [prefix, upper]

    @staticmethod
    def data_key(key: str) -> str:
        """The parameter naming one key of `data` (API names are letters, digits, `_` and `$`: nothing to
        escape)."""
        return f'$."{key}"'

    stored = "json_extract(r.data, ?)"  # a key of `data` as an SQL value (JSON null as NULL)

    @staticmethod
    def picked(count: int) -> str:
        """A JSON object of `count` keys of `data` (each key given as its name, then as `data_key`), as text."""
        return f"json_object({', '.join('?, r.data -> ?' for _ in range(count))})"

    @staticmethod
    def folded(expression: str) -> tuple[str, str | None]:
        """A grouped text value compared without ASCII case: what the query shows (the group's first record's, in id
        order), and what it groups and sorts by if not that column itself."""
        return f"{expression} COLLATE NOCASE", None

    @staticmethod
    def aggregate(function: str, expression: str, from_data: bool) -> str:
        """`COUNT`, `SUM`, `MIN`, `MAX` or `AVG` of stored values (`from_data`: read from `data`, not a column)."""
        return f"{function}({expression})"

    @staticmethod
    def ordered(term: str, descending: bool) -> str:
        """An ORDER BY term: empty values first when ascending, last when descending (SQLite's own order)."""
        return f"{term} {'DESC' if descending else 'ASC'}"

    @staticmethod
    def coalesced(expression: str, params: list[Any], empty: Any) -> tuple[str, list[Any]]:
        """A grouped value with `empty` in place of none (a boolean's false), and the parameters."""
        return f"COALESCE({expression}, ?)", [*params, empty]

    @staticmethod
    def aggregated(row: Sequence[Any], functions: Sequence[str]) -> tuple[Any, ...] | None:
        """A grouped row as SQLite gives it (its SUM is exact or refuses): as it is."""
        return tuple(row)

    @staticmethod
    def overflowed(error: Exception) -> bool:
        """Whether a grouped query failed because a SUM passed 64 bits."""
        return "integer overflow" in str(error)


# A record's `data` with its NUL escapes as U+FFFD: PostgreSQL's json and jsonb cannot give a NUL back as text.
_WITHOUT_NUL = "replace(r.data, '\\u0000', '\\ufffd')"


class PostgresDialect:
    """PostgreSQL's: `record_values.value` is jsonb (strings, numbers as exact numerics), `records.data` is text
    read as jsonb, and `mockzoho_min`/`mockzoho_max` aggregate jsonb (PostgreSQL has no MIN of it). Text sorts by
    code point only in a database of the C collation, which the store checks when it opens one."""

    name = "postgresql"
    value = "to_jsonb(?)"
    least = "mockzoho_min"

    @staticmethod
    def as_value(column: str) -> str:
        return f"to_jsonb({column})"

    @staticmethod
    def contains(column: str) -> str:
        return f"{_is_text(column)} AND strpos({_as_text(column)}, ?) > 0"

    @staticmethod
    def ends_with(column: str) -> str:
        return f"{_is_text(column)} AND right({_as_text(column)}, length(?)) = ?"

    @staticmethod
    def starts_with(column: str, prefix: str, upper: str | None) -> tuple[str, list[str]]:
        # No range on jsonb (its strings sort by the collation); the primary key still narrows it to the field.
        return f"{_is_text(column)} AND starts_with({_as_text(column)}, ?)", [prefix]

    @staticmethod
    def data_key(key: str) -> str:
        return key

    # JSON null as NULL, booleans as 0 and 1 (json_extract's way); a NUL escape as U+FFFD, which jsonb can hold.
    stored = f"mockzoho_scalar({_WITHOUT_NUL}::jsonb -> ?)"

    @staticmethod
    def picked(count: int) -> str:
        # json, not jsonb: the values come back as written (1e+20 stays so).
        pairs = ", ".join(f"?::text, {_WITHOUT_NUL}::json -> ?::text" for _ in range(count))
        return f"json_build_object({pairs})::text"

    @staticmethod
    def folded(expression: str) -> tuple[str, str | None]:
        # ASCII letters alone, as SQLite's NOCASE folds (lower() would fold more in a C.UTF-8 database).
        return (f"(array_agg({expression} ORDER BY r.id))[1]",
                f"translate({expression} #>> '{{}}', '{ASCII_UPPER}', '{ASCII_UPPER.lower()}')")

    @staticmethod
    def aggregate(function: str, expression: str, from_data: bool) -> str:
        if function in ("MIN", "MAX") and from_data:  # a column's own MIN serves it; jsonb has none
            return f"mockzoho_{function.lower()}({expression})"
        if function == "SUM" and from_data:
            return f"SUM(({expression})::numeric)"
        if function == "AVG":  # a double's arithmetic, as SQLite's AVG
            return f"AVG(({expression})::float8)"
        return f"{function}({expression})"

    @staticmethod
    def ordered(term: str, descending: bool) -> str:
        return f"{term} {'DESC NULLS LAST' if descending else 'ASC NULLS FIRST'}"

    @staticmethod
    def coalesced(expression: str, params: list[Any], empty: Any) -> tuple[str, list[Any]]:
        return f"COALESCE({expression}, to_jsonb(?))", [*params, empty]

    @staticmethod
    def aggregated(row: Sequence[Any], functions: Sequence[str]) -> tuple[Any, ...] | None:
        """A grouped row as SQLite would give it: booleans as 0 and 1, an AVG as a real, a SUM of integers as an
        integer (None if it passed 64 bits, which SQLite refuses) and of reals as a real."""
        shown: list[Any] = []
        for value, function in zip(row, [""] * (len(row) - len(functions)) + list(functions)):
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, Decimal):
                if function == "AVG" or value.as_tuple().exponent < 0:  # type: ignore[operator]
                    value = float(value)
                else:
                    value = int(value)
                    if not SMALLEST_INTEGER <= value <= LARGEST_INTEGER:
                        return None
            shown.append(value)
        return tuple(shown)

    @staticmethod
    def overflowed(error: Exception) -> bool:
        return False


_TEXT_COLUMNS = ("id", "owner", "created_by", "modified_by")
ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _is_text(column: str) -> str:
    """The condition that an indexed value is a jsonb string, or (a system column of `records`, known from its
    type) TRUE or FALSE."""
    if column == "value":
        return "jsonb_typeof(value) = 'string'"
    return "TRUE" if column.rsplit(".", 1)[-1] in _TEXT_COLUMNS else "FALSE"


def _as_text(column: str) -> str:
    """An indexed value (a jsonb string) or a text column as text."""
    return "(value #>> '{}')" if column == "value" else column


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
Dialect = Union[SqliteDialect, PostgresDialect]
