"""Field values: what a write may put in a field of each data type, how the state keeps it, how search compares it
(its index entries) and how answers show it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from .fields import Field, ModuleFields

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEBSITE = re.compile(r"^(https?://)?[^\s/.]+(\.[^\s/.]+)+(/\S*)?$", re.IGNORECASE)
INTEGER_TEXT = re.compile(r"^-?[0-9]{1,20}$")  # bounded: Python refuses to read 4300 digits and more
NUMBER_TEXT = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?$")
INT32, INT64 = 2**31, 2**63
TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "website", "picklist", "autonumber"})
NUMBER_TYPES = frozenset({"double", "currency", "percent"})
REFERENCE_TYPES = frozenset({"lookup", "ownerlookup", "userlookup"})
DEFAULT_LENGTHS = {"text": 255, "textarea": 32000, "email": 100, "phone": 30, "website": 255, "picklist": 255}
NONE_CHOICE = "-None-"  # a picklist's empty value, as Zoho lists it
# What INVALID_DATA's `expected_data_type` names for each data type (the JSON type for structured ones).
EXPECTED_TYPES = {"multiselectpicklist": "jsonarray", "lookup": "jsonobject", "ownerlookup": "jsonobject",
                  "userlookup": "jsonobject"}


class FieldProblem(Exception):
    """A value a field refuses: the error code and the details that name what was wrong (api_name first)."""

    def __init__(self, code: str, details: dict[str, Any], message: str | None = None) -> None:
        self.code, self.details, self.message = code, details, message
        super().__init__(code)


@dataclass(frozen=True)
class Reference:
    """A lookup or user value the caller gave: the id it names (checked against the state afterwards)."""

    field: Field
    id: str


def invalid(field: Field, **extra: Any) -> FieldProblem:
    """INVALID_DATA for a value of the wrong type or form."""
    return FieldProblem("INVALID_DATA", {"expected_data_type": EXPECTED_TYPES.get(field.data_type, field.data_type),
                                         "api_name": field.api_name, **extra})


def _text(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(field)
    limit = field.length or DEFAULT_LENGTHS.get(field.data_type, 255)
    if len(value) > limit:
        raise FieldProblem("INVALID_DATA", {"maximum_length": limit, "api_name": field.api_name})
    return value


def _email(field: Field, value: Any) -> str:
    text = _text(field, value)
    if not EMAIL.match(text):
        raise invalid(field)
    return text


def _website(field: Field, value: Any) -> str:
    text = _text(field, value)
    if not WEBSITE.match(text):
        raise invalid(field)
    return text


def _whole(bound: int) -> Callable[[Field, Any], int]:
    def whole(field: Field, value: Any) -> int:
        if isinstance(value, str) and INTEGER_TEXT.match(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not -bound <= value < bound:
            raise invalid(field)
        return value
    return whole


def _number(field: Field, value: Any) -> float | int:
    if isinstance(value, str) and NUMBER_TEXT.match(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
            isinstance(value, int) and not -INT64 <= value < INT64):  # SQLite holds 64-bit integers only
        raise invalid(field)
    return value


def _boolean(field: Field, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(field)
    return value


def _date(field: Field, value: Any) -> str:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise invalid(field)


def _datetime(field: Field, value: Any) -> int:
    """Kept as epoch seconds: answers show it in the org's time zone whatever offset it came with."""
    try:
        if isinstance(value, str) and len(value) in (20, 25) and "T" in value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            # Years 2 to 9998 only: an answer shows the instant in the org's zone, up to a day away.
            if moment.tzinfo is not None and 1 < moment.year < 9999:
                return int(moment.timestamp())
    except ValueError:
        pass
    raise invalid(field)


def _picklist(field: Field, value: Any) -> str | None:
    text = _text(field, value)
    if field.picklist and text not in field.picklist:
        raise invalid(field)
    return None if text == NONE_CHOICE else text


def _multiselect(field: Field, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(field)
    if field.picklist and any(v not in field.picklist for v in value):
        raise invalid(field)
    return list(dict.fromkeys(value))


def _reference(field: Field, value: Any) -> Reference:
    """`{"id": "..."}` (or the bare id, which v2 clients send); an object without an id is MANDATORY_NOT_FOUND."""
    if isinstance(value, dict):
        if "id" not in value or value["id"] is None:
            raise FieldProblem("MANDATORY_NOT_FOUND", {"api_name": "id"}, "required field not found")
        value = value["id"]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise invalid(field)
    return Reference(field, value)


PARSERS: dict[str, Callable[[Field, Any], Any]] = {
    "text": _text, "textarea": _text, "phone": _text, "autonumber": _text, "email": _email, "website": _website,
    "integer": _whole(INT32), "bigint": _whole(INT64), "double": _number, "currency": _number, "percent": _number,
    "boolean": _boolean, "date": _date, "datetime": _datetime, "picklist": _picklist,
    "multiselectpicklist": _multiselect, "lookup": _reference, "ownerlookup": _reference, "userlookup": _reference}


def parse_value(field: Field, value: Any) -> Any:
    """The value as the state keeps it (None clears the field); FieldProblem if the field refuses it."""
    if value is None:
        return None
    parsed = PARSERS[field.data_type](field, value)
    return parsed.id if isinstance(parsed, Reference) else parsed


def references(field: Field, value: Any) -> Reference | None:
    """The id a lookup or user field's value names, to be checked against the state (None for other fields)."""
    if field.data_type not in REFERENCE_TYPES or value is None:
        return None
    return _reference(field, value)


def index_entries(field: Field, stored: Any) -> list[Any]:
    """What search compares a stored value by: text in lower case, one entry per chosen value."""
    if stored is None or stored == "" or stored == []:
        return []
    if isinstance(stored, list):
        return [v.lower() for v in stored]
    if isinstance(stored, bool):
        return [int(stored)]
    if isinstance(stored, str):
        return [stored.lower()]
    return [stored]


def search_value(field: Field, text: str) -> Any:
    """A value given in a search (always text) in the form the index holds for the field; FieldProblem if it
    cannot be one."""
    if field.data_type == "boolean":
        if text.lower() not in ("true", "false"):
            raise invalid(field)
        return int(text.lower() == "true")
    if field.data_type in REFERENCE_TYPES:
        return _reference(field, text).id
    if field.data_type in TEXT_TYPES or field.data_type == "multiselectpicklist":
        return text.lower()
    [entry] = index_entries(field, PARSERS[field.data_type](field, text)) or [None]
    return entry


def record_name(fields: ModuleFields, data: dict[str, Any]) -> str:
    """A record's name: its name field, or its name parts joined (`Full_Name` from first and last names)."""
    if fields.name_parts:
        return " ".join(str(data[p]) for p in fields.name_parts if data.get(p))
    value = data.get(fields.name_field) if fields.name_field else None
    return "" if value is None else str(value)


def with_name(fields: ModuleFields, data: dict[str, Any]) -> dict[str, Any]:
    """The values with a made-up name field filled in from its parts (it is read-only, and searchable)."""
    if not (fields.name_parts and fields.name_field):
        return data
    return {**data, fields.name_field: record_name(fields, data) or None}


def values_from_name(fields: ModuleFields, name: str) -> dict[str, Any]:
    """Values for a record given by name only (older fixtures): the last word is the last name part."""
    if not name or not fields.name_field:
        return {}
    if not fields.name_parts:
        return {fields.name_field: name}
    *first, last = name.rsplit(" ", len(fields.name_parts) - 1) if " " in name else [name]
    parts = dict(zip(fields.name_parts[-1 - len(first):], [*first, last]))
    return with_name(fields, parts)


def index_of(fields: ModuleFields, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Every stored value of a record in the form search compares it by, field (lower case) -> entries."""
    index: dict[str, list[Any]] = {}
    for name, value in data.items():
        field = fields.field(name)
        entries = index_entries(field, value) if field is not None else []
        if entries:
            index[name.lower()] = entries
    return index
