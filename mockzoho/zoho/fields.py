"""A module's fields: API names, data types and rules, built in for the standard modules (`standard_fields.yaml`)
and added by fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from functools import cache
from importlib import resources
from typing import Any, Iterable, Mapping


# Zoho's `data_type` values that the engine validates and stores; anything else is refused in fixtures.
DATA_TYPES = frozenset({
    "text", "textarea", "email", "phone", "website", "integer", "bigint", "double", "currency", "percent",
    "boolean", "date", "datetime", "picklist", "multiselectpicklist", "lookup", "ownerlookup", "userlookup",
    "autonumber"})
# Fields the server keeps on every record: the caller's writes to them are refused as read-only.
SYSTEM_FIELDS: tuple[dict[str, Any], ...] = (
    {"api_name": "Owner", "data_type": "ownerlookup", "label": "Record Owner"},  # the one system field one may set
    {"api_name": "Created_By", "data_type": "ownerlookup", "read_only": True, "system": True},
    {"api_name": "Modified_By", "data_type": "ownerlookup", "read_only": True, "system": True},
    {"api_name": "Created_Time", "data_type": "datetime", "read_only": True, "system": True},
    {"api_name": "Modified_Time", "data_type": "datetime", "read_only": True, "system": True},
)


@dataclass(frozen=True)
class Field:
    """One field of a module, as `GET /settings/fields` describes it and as writes are checked against it."""

    api_name: str
    data_type: str
    label: str = ""
    length: int | None = None       # characters for text types, digits for numbers; None: the type's default
    mandatory: bool = False
    unique: bool = False
    read_only: bool = False
    system: bool = False            # kept by the server (audit users and times)
    picklist: tuple[str, ...] = ()  # the allowed values of a picklist or multi-select picklist
    lookup: str | None = None       # the module a lookup points to
    custom: bool = False            # declared by a fixture

    @property
    def field_label(self) -> str:
        return self.label or self.api_name.removesuffix("__c").replace("_", " ")

    @staticmethod
    def from_spec(spec: Mapping[str, Any], custom: bool = False) -> Field:
        """A field from its catalogue or fixture mapping (picklists as lists)."""
        values = dict(spec)
        values["picklist"] = tuple(values.get("picklist", ()))
        return Field(**values, custom=custom)

    def spec(self) -> dict[str, Any]:
        """The mapping `from_spec` reads back (what the state keeps of a fixture's fields)."""
        spec: dict[str, Any] = {"api_name": self.api_name, "data_type": self.data_type}
        for name in ("label", "length", "mandatory", "unique", "read_only", "system", "lookup"):
            value = getattr(self, name)
            if value:
                spec[name] = value
        if self.picklist:
            spec["picklist"] = list(self.picklist)
        return spec


@dataclass(frozen=True)
class RelatedList:
    """A related list of a module's records: the records of `module` whose lookup `field` points to the record
    (`field` None: a list the engine serves itself, Notes and Attachments)."""

    api_name: str
    module: str
    field: str | None = None
    label: str = ""

    @property
    def display_label(self) -> str:
        return self.label or self.api_name.replace("_", " ")


# Every module that has records has these, served by the engine itself.
COMMON_RELATED_LISTS = (RelatedList("Notes", "Notes", "Parent_Id"), RelatedList("Attachments", "Attachments"))


@dataclass(frozen=True, eq=False)  # one object per module (cached), hashed by identity: a cheap cache key
class ModuleFields:
    """The fields of one module in display order, which of them names a record, and its related lists."""

    fields: tuple[Field, ...]
    name_field: str | None = None          # the field shown as a record's name (in lookups and lists)
    name_parts: tuple[str, ...] = ()       # when the name is made of other fields (`Full_Name`)
    related_lists: tuple[RelatedList, ...] = COMMON_RELATED_LISTS
    duplicate_check: tuple[str, ...] = ()  # what an upsert matches by when neither a call nor a unique field says
    _by_name: dict[str, Field] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.api_name.lower(): f for f in self.fields})

    def related_list(self, api_name: str) -> RelatedList | None:
        """The related list with this API name (case-insensitive), or None."""
        wanted = api_name.lower()
        return next((r for r in self.related_lists if r.api_name.lower() == wanted), None)

    def field(self, api_name: str) -> Field | None:
        """The field with this API name (case-insensitive), or None."""
        return self._by_name.get(api_name.lower())

    def with_custom(self, extra: Iterable[Field]) -> ModuleFields:
        """These fields and a fixture's custom ones after them (a custom field of a taken name replaces it)."""
        added = {f.api_name.lower(): f for f in extra}
        kept = tuple(f for f in self.fields if f.api_name.lower() not in added)
        return ModuleFields(kept + tuple(added.values()), self.name_field, self.name_parts, self.related_lists,
                            self.duplicate_check)


def with_system_fields(fields: Iterable[Field]) -> tuple[Field, ...]:
    """A module's own fields and then the system fields it does not declare itself."""
    own = tuple(fields)
    names = {f.api_name.lower() for f in own}
    return own + tuple(Field.from_spec(s) for s in SYSTEM_FIELDS if s["api_name"].lower() not in names)


@cache
def standard_fields(product: str) -> dict[str, ModuleFields]:
    """The built-in fields of each standard module of a product, API name (lower case) -> fields."""
    import yaml  # here, not above: a server that never reads fields does not pay for the parser

    text = resources.files(__package__).joinpath("standard_fields.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser reads it ten times faster
    modules = yaml.load(text, Loader=loader).get(product, {})
    return {name.lower(): _module_fields(spec) for name, spec in modules.items()}


def _module_fields(spec: Mapping[str, Any]) -> ModuleFields:
    fields = with_system_fields(Field.from_spec(f) for f in spec.get("fields", ()))
    # Zoho's system duplicate check: a module's Email where it has one (Leads, Contacts), else its name.
    default_check = ["Email"] if any(f.api_name == "Email" for f in fields) else [spec.get("name_field")]
    return ModuleFields(fields, spec.get("name_field"), tuple(spec.get("name_parts", ())),
                        tuple(RelatedList(**r) for r in spec.get("related_lists", ())) + COMMON_RELATED_LISTS,
                        tuple(filter(None, spec.get("duplicate_check_fields", default_check))))


def custom_module_fields(extra: Iterable[Field]) -> ModuleFields:
    """The fields of a fixture's custom module: a `Name` text field (its record name, as in Zoho) and its own."""
    name = Field("Name", "text", "Name", 120, mandatory=True)
    return ModuleFields(with_system_fields([name]), "Name", duplicate_check=("Name",)).with_custom(extra)
