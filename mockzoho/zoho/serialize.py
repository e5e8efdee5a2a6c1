"""Attachments and users as Zoho's JSON shows them: key order, string ids and sizes, local times."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from ..store import AttachmentRow, RecordRow, UserRef
from .fields import Field, ModuleFields

# Canonical key order; the v7 sample (Owner, File_Name, Created_Time, Parent_Id, id) is a subsequence of it.
ATTACHMENT_FIELDS = ("Owner", "Modified_By", "Created_By", "File_Name", "Size", "Created_Time", "Modified_Time",
                     "Parent_Id", "$file_id", "$type", "$se_module", "$link_url", "$state", "$editable",
                     "$attachment_type", "id")
FILE_TYPE, LINK_TYPE = ("File", 1), ("Link URL", 3)


def zoho_time(timestamp: int, time_zone: str) -> str:
    """`YYYY-MM-DDTHH:MM:SS+HH:MM` in the org's time zone."""
    return datetime.fromtimestamp(timestamp, ZoneInfo(time_zone)).isoformat(timespec="seconds")


def user_json(user: UserRef | None, email: bool = True) -> dict[str, str] | None:
    """`{"name","id","email"}` (or without email, as upload answers show it)."""
    if user is None:
        return None
    return {"name": user.name, "id": user.id, "email": user.email} if email else {"name": user.name, "id": user.id}


def file_id(org: str, product: str, attachment_id: str) -> str:
    """A stable opaque `$file_id` for a file attachment."""
    return hashlib.sha256(f"{org}/{product}/{attachment_id}".encode()).hexdigest()


def attachment_json(row: AttachmentRow, org: str, product: str, time_zone: str,
                    fields: Iterable[str] | None = None) -> dict[str, Any]:
    """One attachment object; with `fields`, only those (and `id`), in canonical order."""
    type_name, type_number = LINK_TYPE if row.link_url is not None else FILE_TYPE
    values: dict[str, Any] = {
        "Owner": user_json(row.owner),
        "Modified_By": user_json(row.modified_by),
        "Created_By": user_json(row.created_by),
        "File_Name": row.file_name,
        "Size": str(row.size),
        "Created_Time": zoho_time(row.created_time, time_zone),
        "Modified_Time": zoho_time(row.modified_time, time_zone),
        "Parent_Id": {"id": row.record_id, "name": row.record_name},
        "$file_id": None if row.link_url is not None else file_id(org, product, row.id),
        "$type": type_name,
        "$se_module": row.module,
        "$link_url": row.link_url,
        "$state": "save",
        "$editable": True,
        "$attachment_type": type_number,
        "id": row.id,
    }
    if fields is None:
        return values
    wanted = {f.lower() for f in fields} | {"id"}
    return {k: v for k, v in values.items() if k.lower() in wanted}


def upload_details(new_id: str, user: UserRef, timestamp: int, time_zone: str) -> dict[str, Any]:
    """The `details` of a successful upload, in the documented key order."""
    when = zoho_time(timestamp, time_zone)
    return {"Modified_Time": when, "Modified_By": user_json(user, email=False), "Created_Time": when,
            "id": new_id, "Created_By": user_json(user, email=False)}


def user_names(user: UserRef) -> tuple[str | None, str]:
    """A user's first name (None if the name is one word) and last name, as `GET /users` splits the full name."""
    first, _, last = user.name.rpartition(" ")
    return first or None, last or user.name


def full_user_json(user: UserRef, time_zone: str) -> dict[str, Any]:
    """A user as `GET /users` shows one."""
    first, last = user_names(user)
    return {"id": user.id, "full_name": user.name, "first_name": first, "last_name": last,
            "email": user.email, "status": "active", "confirm": True, "time_zone": time_zone}


@dataclass(frozen=True)
class RecordView:
    """What showing records needs besides the rows: the org's users and time zone, the names of the records
    their lookups point to, and which fields were asked for (None: all)."""

    fields: ModuleFields
    users: dict[str, UserRef]
    names: dict[str, tuple[str, str]]
    time_zone: str
    wanted: frozenset[str] | None = None
    approval_state: bool = False  # v8 shows `$approval_state`


def shown_fields(fields: ModuleFields, wanted: frozenset[str] | None) -> tuple[Field, ...]:
    """The fields records show when these (lower-case API names; None: all) are asked for, in the module's order."""
    return tuple(f for f in fields.fields if wanted is None or f.api_name.lower() in wanted)


def stored_keys(fields: ModuleFields, wanted: frozenset[str] | None) -> list[str] | None:
    """The keys of a record's stored values that showing these fields reads (None: all of them); a note's
    `$se_module` is always shown."""
    if wanted is None:
        return None
    return [f.api_name for f in shown_fields(fields, wanted)] + ["$se_module"]


def lookup_ids(fields: ModuleFields, rows: Iterable[RecordRow]) -> list[str]:
    """The ids the lookups of these records point to (whose names an answer shows)."""
    lookups = [f.api_name for f in fields.fields if f.data_type == "lookup"]
    return sorted({row.data[name] for row in rows for name in lookups if row.data.get(name)})


# The fields kept in a record's own columns, by API name: the audit users, and the two times.
SYSTEM_USERS = {"Owner": "owner", "Created_By": "created_by", "Modified_By": "modified_by"}
SYSTEM_TIMES = {"Created_Time": "created_time", "Modified_Time": "modified_time"}


Reader = Callable[[RecordRow, "RecordView"], Any]


@lru_cache(maxsize=256)
def _readers(fields: ModuleFields, wanted: frozenset[str] | None) -> tuple[tuple[str, Reader], ...]:
    """Each shown field's API name and how its value is shown from a row, chosen once per module and fields asked
    (a 200-record page would otherwise test each field's name and type 200 times)."""
    return tuple((f.api_name, field_reader(f)) for f in shown_fields(fields, wanted))


def field_reader(field: Field) -> Reader:
    """How one field's value is shown from a row, by the field's name and type."""
    name, kind = field.api_name, field.data_type
    if name in SYSTEM_USERS:
        column = SYSTEM_USERS[name]
        return lambda row, view: user_json(view.users.get(getattr(row, column) or ""))
    if name in SYSTEM_TIMES:
        column = SYSTEM_TIMES[name]
        return lambda row, view: zoho_time(getattr(row, column), view.time_zone)
    if kind == "boolean":
        return lambda row, view: bool(row.data.get(name))
    if kind == "multiselectpicklist":
        return lambda row, view: row.data.get(name) or []
    if kind == "datetime":
        return lambda row, view: None if (value := row.data.get(name)) is None else zoho_time(value, view.time_zone)
    if kind == "lookup":
        return lambda row, view: None if (shown := view.names.get(row.data.get(name))) is None else \
            {"name": shown[0], "id": row.data[name]}
    if kind in ("ownerlookup", "userlookup"):
        return lambda row, view: None if (value := row.data.get(name)) is None else user_json(view.users.get(value))
    return lambda row, view: row.data.get(name)


def record_json(row: RecordRow, view: RecordView) -> dict[str, Any]:
    """One record: its fields in the module's order (only those asked for, if any), its `$` keys, then `id`."""
    values = {name: read(row, view) for name, read in _readers(view.fields, view.wanted)}
    if row.data.get("$se_module") is not None:  # a note: the module of the record it is on
        values["$se_module"] = row.data["$se_module"]
    values.update({"$approved": True, "$editable": True, "$state": "save", "$process_flow": False})
    if view.approval_state:
        values["$approval_state"] = "approved"
    values["id"] = row.id
    return values


def saved_details(row: RecordRow, users: dict[str, UserRef], time_zone: str, approval_state: bool) -> dict[str, Any]:
    """The `details` of a record written, in the documented key order."""
    details = {"Modified_Time": zoho_time(row.modified_time, time_zone),
               "Modified_By": user_json(users.get(row.modified_by or ""), email=False),
               "Created_Time": zoho_time(row.created_time, time_zone), "id": row.id,
               "Created_By": user_json(users.get(row.created_by or ""), email=False)}
    if approval_state:
        details["$approval_state"] = "approved"
    return details
