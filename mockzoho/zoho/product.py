"""What differs between Zoho products: URL prefix, versions, scope service and module catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Mapping

from ..ids import numeric_id
from .fields import Field, ModuleFields, custom_module_fields, standard_fields


@dataclass(frozen=True)
class Module:
    """One module of a product's catalogue, as `GET /settings/modules` would describe it."""

    api_name: str
    scope_name: str
    api_supported: bool = True
    attachments: bool = True
    module_name: str = ""  # the name in `GET /settings/modules`; the API name unless it differs
    custom_fields: tuple[Field, ...] = ()  # what the fixtures add to the module's fields

    @property
    def display_name(self) -> str:
        return self.module_name or self.api_name

    @property
    def custom(self) -> bool:
        """True for a module the fixtures made (its scope name is `custom`)."""
        return self.scope_name == "custom"


def default_scope_name(api_name: str) -> str:
    """Scope names are the API name in lower case without underscores (`Sales_Orders` -> `salesorders`)."""
    return api_name.removesuffix("__s").replace("_", "").lower()


def catalogue(attachable: str, records_only: str = "", unsupported: str = "",
              scope_names: Mapping[str, str] | None = None,
              module_names: Mapping[str, str] | None = None) -> tuple[Module, ...]:
    """Build a module catalogue from space-separated API names, grouped by what the API allows."""
    scope_names, module_names = scope_names or {}, module_names or {}

    def modules(names: str, **flags: bool) -> list[Module]:
        return [Module(n, scope_names.get(n, default_scope_name(n)), module_name=module_names.get(n, ""), **flags)
                for n in names.split()]

    return tuple(modules(attachable) + modules(records_only, attachments=False)
                 + modules(unsupported, api_supported=False, attachments=False))


@dataclass(frozen=True)
class CoqlRules:
    """What one version's COQL takes (Zoho's COQL Limitations page of that version)."""

    per_call: int            # rows a query's LIMIT may ask for
    reachable: int           # rows LIMIT and OFFSET reach together
    columns: int = 50        # select columns
    in_values: int = 50      # values of one `in`
    aggregates: bool = False  # COUNT, SUM, MIN, MAX, AVG and GROUP BY
    lookup_names: bool = False  # lookups and users shown as {name, id}, not {id}


@dataclass(frozen=True)
class Product:
    """A Zoho product served by the shared engine."""

    name: str
    prefix: str
    versions: tuple[str, ...]
    scope_service: str
    modules: tuple[Module, ...]
    # Bigin's documented scope pairs need an attachments scope even with `modules.ALL`; CRM's do not.
    modules_all_covers_attachments: bool
    multi_status_versions: frozenset[str] = frozenset()
    fields_required_versions: frozenset[str] = frozenset()  # GET Attachments needs `fields`
    page_token_versions: frozenset[str] = frozenset()
    # Versions whose record calls follow CRM v3's ways: `fields` required on a listing, `json_path` in field
    # errors, `sort_by`/`sort_order` in a listing's `info`.
    modern_versions: frozenset[str] = frozenset()
    # Names Zoho gives a module that are not its API name (an older version's, another product's), name ->
    # API name: what a fixture using one is told it probably meant.
    other_names: Mapping[str, str] = field(default_factory=dict, compare=False)
    coql: Mapping[str, CoqlRules] = field(default_factory=dict, compare=False)  # versions that have COQL
    _by_name: dict[str, Module] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {m.api_name.lower(): m for m in self.modules})

    def module(self, name: str) -> Module | None:
        """The module with this API name (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @property
    def other_module_names(self) -> dict[str, str]:
        """Every other name of a module -> its API name: its `GET /settings/modules` name (CRM's Meetings are its
        Events) and `other_names`."""
        return {**{m.module_name: m.api_name for m in self.modules if m.module_name}, **self.other_names}

    def renamed(self, name: str) -> Module | None:
        """The module another name of it (in any case) stands for, or None."""
        by_lower = {other.lower(): api_name for other, api_name in self.other_module_names.items()}
        return self.module(by_lower[name.lower()]) if name.lower() in by_lower else None

    def fields(self, module: Module) -> ModuleFields:
        """The module's fields: its standard ones (a `Name` field for a module without any) and its custom ones."""
        return _module_fields(self.name, module)

    def module_id(self, module: Module) -> str:
        """The module's 19-digit id, as `GET /settings/modules` gives it."""
        return numeric_id(self.name, "module", module.api_name)

    def with_modules(self, extra: Iterable[Module]) -> Product:
        """This product with fixture-declared modules added (replacing same-named ones)."""
        merged = {m.api_name.lower(): m for m in self.modules}
        merged.update({m.api_name.lower(): m for m in extra})
        return replace(self, modules=tuple(merged.values()))

    def bulk_status(self, version: str, succeeded: int, failed: int) -> int:
        """HTTP status of a bulk answer: 200 all good, 400 all failed, 207 or 200 when mixed."""
        if not failed:
            return 200
        if not succeeded:
            return 400
        return 207 if version in self.multi_status_versions else 200


@lru_cache(maxsize=256)
def _module_fields(product: str, module: Module) -> ModuleFields:
    standard = standard_fields(product).get(module.api_name.lower())
    if standard is None:
        return custom_module_fields(module.custom_fields)
    return standard.with_custom(module.custom_fields)
