"""The metadata API of a product: modules, fields, layouts, related lists and the org, in the shapes Zoho's
SDKs parse (no SQL, no request). Key orders follow Zoho's v8 OpenAPI schemas (`crm-oas`, `v8.0/*.json`), and for
a field the v8 SDK's (`zohocrmsdk8_0` `json_details.json`, which the docs' sample follows); what the sources
leave open is listed in docs/fidelity.md ("Metadata")."""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

from ..ids import numeric_id
from ..store import Store
from .auth import Principal
from .errors import MODULE_NOT_SUPPORTED, ZohoError
from .fields import Field, ModuleFields, RelatedList
from .product import Module, Product

# The versions answering in the first API's shape: absent sub-objects are `{}` there, `null` later, and the org
# lacks the keys added since.
LEGACY_VERSIONS = {"crm": frozenset({"v2", "v2.1"}), "bigin": frozenset({"v1"})}

JSON_TYPES = {"integer": "integer", "bigint": "integer", "double": "double", "currency": "double",
              "percent": "double", "boolean": "boolean", "multiselectpicklist": "jsonarray",
              "lookup": "jsonobject", "ownerlookup": "jsonobject", "userlookup": "jsonobject"}  # else "string"
UI_TYPES = {"text": 1, "picklist": 2, "textarea": 3, "email": 25, "phone": 33, "website": 21, "integer": 32,
            "bigint": 32, "double": 36, "currency": 36, "percent": 38, "boolean": 301, "date": 24, "datetime": 333,
            "multiselectpicklist": 100, "lookup": 133, "ownerlookup": 8, "userlookup": 90, "autonumber": 1}
DECIMAL_TYPES = frozenset({"double", "currency", "percent"})
# The keys of a field, in the order of the v8 SDK's `fields.Fields` (the docs' sample starts the same way).
FIELD_KEYS = (
    "associated_module", "webhook", "operation_type", "colour_code_enabled_by_system", "field_label", "tooltip",
    "textarea", "type", "field_read_only", "customizable_properties", "display_label", "read_only",
    "association_details", "businesscard_supported", "multi_module_lookup", "sharing_properties", "id",
    "filterable", "created_time", "visible", "refer_from_field", "profiles", "view_type", "subform", "separator",
    "searchable", "show_type", "external", "api_name", "enable_colour_code", "unique", "pick_list_values",
    "system_mandatory", "private", "virtual_field", "json_type", "crypt", "created_source",
    "available_in_user_layout", "auto_number", "allowed_modules", "display_type", "ui_type", "modified_time",
    "file_upolad_optionlist", "quick_sequence_number", "email_parser", "currency", "multiuserlookup",
    "custom_field", "lookup", "hipaa_compliance", "convert_mapping", "rollup_summary", "column_name", "length",
    "default_value", "display_field", "pick_list_values_sorted_lexically", "sortable", "number_separator",
    "layout_associations", "sequence_number", "global_picklist", "autonumber", "history_tracking", "data_type",
    "sub_module", "formula", "additional_column", "static_field", "category", "hipaa_compliance_enabled",
    "mass_update", "decimal_place", "blueprint_supported", "multiselectlookup")
# A layout's fields: a field's keys with the layout's own (SDK `layouts.SectionField`).
SECTION_FIELD_EXTRA = {"type": ("required",), "display_type": ("validation_rule",),
                       "modified_time": ("section_id",)}
# Sub-objects the first API shows as `{}` when they do not apply.
LEGACY_EMPTY = ("unique", "lookup", "formula", "currency", "auto_number", "multiselectlookup")
# The module keys of OAS v8 `modules` (its `common.` is `global_`); the detail-only ones are left out of lists.
MODULE_KEYS = (
    "has_more_profiles", "sub_menu_available", "global_search_supported", "deletable", "description", "creatable",
    "recycle_bin_on_delete", "inventory_template_supported", "modified_time", "plural_label", "presence_sub_menu",
    "triggers_supported", "id", "chart_view", "isBlueprintSupported", "visibility", "visible", "convertable",
    "editable", "emailTemplate_support", "email_parser_supported", "filter_supported", "show_as_tab", "web_link",
    "sequence_number", "singular_label", "viewable", "api_supported", "api_name", "quick_create", "generated_type",
    "feeds_required", "scoring_supported", "webform_supported", "territory", "arguments", "module_name",
    "chart_view_supported", "profile_count", "business_card_field_limit", "track_current_data", "modified_by",
    "profiles", "parent_module", "activity_badge", "$field_states", "business_card_fields", "per_page",
    "$properties", "$on_demand_properties", "search_layout_fields", "kanban_view_supported",
    "lookup_field_properties", "kanban_view", "related_lists", "filter_status", "related_list_properties",
    "display_field", "layouts", "fields", "custom_view", "zia_view", "default_mapping_fields", "status",
    "static_subform_properties", "layout_associations")
MODULE_DETAIL_ONLY = frozenset({
    "activity_badge", "$field_states", "business_card_fields", "per_page", "$properties", "$on_demand_properties",
    "search_layout_fields", "kanban_view_supported", "lookup_field_properties", "kanban_view", "related_lists",
    "filter_status", "related_list_properties", "display_field", "layouts", "fields", "custom_view", "zia_view",
    "default_mapping_fields", "static_subform_properties", "layout_associations"})
INVENTORY = frozenset({"quotes", "sales_orders", "purchase_orders", "invoices"})
SCORING = frozenset({"leads", "contacts", "accounts", "deals", "pipelines"})
WEBFORMS = frozenset({"leads", "contacts", "cases"})
NOT_PLURAL = frozenset({"Analytics", "Social", "Home", "SalesInbox", "Google AdWords", "Visits"})
# The org's country and currency follow its data centre (the country the data centre serves first).
DC_LOCALES = {
    "us": ("United States", "US", "US Dollar", "USD", "$", "en_US"),
    "eu": ("Germany", "DE", "Euro", "EUR", "€", "de_DE"),
    "in": ("India", "IN", "Indian Rupee", "INR", "₹", "en_IN"),
    "au": ("Australia", "AU", "Australian Dollar", "AUD", "$", "en_AU"),
    "cn": ("China", "CN", "Chinese Yuan", "CNY", "¥", "zh_CN"),
    "jp": ("Japan", "JP", "Japanese Yen", "JPY", "¥", "ja_JP"),
    "ca": ("Canada", "CA", "Canadian Dollar", "CAD", "$", "en_CA"),
    "sa": ("Saudi Arabia", "SA", "Saudi Riyal", "SAR", "SAR", "ar_SA"),
}
# Org keys the first API does not have (OAS v8 `Org` past `iso_code`, and `deletable_org_account`).
ORG_LATER_KEYS = frozenset({"deletable_org_account", "hierarchy_preferences", "hipaa_compliance_enabled",
                            "lite_users_enabled", "max_per_page", "ezgid", "call_icon", "oauth_presence",
                            "zia_zgid", "checkin_preferences", "type", "created_time"})
ADMINISTRATOR = "Administrator"
STANDARD_LAYOUT = "Standard"


def ordered(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """`values` in the order of `keys` (keys it lacks are left out)."""
    return {k: values[k] for k in keys if k in values}


def labels(module: Module) -> tuple[str, str]:
    """The plural and singular labels of a module (`Sales_Orders`: "Sales Orders", "Sales Order")."""
    plural = module.display_name.removesuffix("__s").replace("_", " ")
    if plural in NOT_PLURAL or not plural.endswith("s") or plural.endswith("ss"):
        return plural, plural
    return plural, plural[:-1]


class Metadata:
    """One product's metadata as one version of its API shows it, for a caller's org."""

    def __init__(self, store: Store, product: Product, version: str) -> None:
        self.store = store
        self.product = product
        self.version = version
        self.legacy = version in LEGACY_VERSIONS.get(product.name, frozenset())

    # -- ids -------------------------------------------------------------------------------------

    def _id(self, *parts: str) -> str:
        return numeric_id(self.product.name, *parts)

    def field_id(self, module: Module, field: Field) -> str:
        return self._id("field", module.api_name, field.api_name)

    def layout_id(self, module: Module) -> str:
        return self._id("layout", module.api_name, STANDARD_LAYOUT)

    def related_list_id(self, module: Module, api_name: str) -> str:
        return self._id("related_list", module.api_name, api_name)

    def profile(self) -> dict[str, Any]:
        return {"name": ADMINISTRATOR, "id": self._id("profile", ADMINISTRATOR)}

    def _empty(self) -> dict[str, Any] | None:
        return {} if self.legacy else None

    # -- the module parameter --------------------------------------------------------------------

    def module(self, name: str | None) -> Module:
        """The module a `module` parameter names: REQUIRED_PARAM_MISSING, or INVALID_MODULE if unknown."""
        if not name:
            raise ZohoError("REQUIRED_PARAM_MISSING", details={"param_name": "module"})
        module = self.product.module(name)
        if module is None:
            raise ZohoError("INVALID_MODULE")
        if not module.api_supported:
            raise ZohoError("INVALID_MODULE", MODULE_NOT_SUPPORTED)
        return module

    # -- fields ----------------------------------------------------------------------------------

    def fields(self, module: Module) -> dict[str, Any]:
        """`GET /settings/fields?module=`."""
        return {"fields": self._field_list(module)}

    def field(self, module: Module, field_id: str) -> dict[str, Any] | None:
        """`GET /settings/fields/{id}?module=`; None for an id the module has no field with."""
        found = [f for f in self._field_list(module) if f["id"] == field_id]
        return {"fields": found} if found else None

    def fields_named(self, module: Module, api_names: Sequence[str]) -> dict[str, Any]:
        """These fields of the module as `GET /settings/fields` shows them, by API name (a COQL `include_meta`)."""
        wanted = set(api_names)
        return {f["api_name"]: f for f in self._field_list(module) if f["api_name"] in wanted}

    def _field_list(self, module: Module) -> list[dict[str, Any]]:
        spec = self.product.fields(module)
        return [ordered(self.field_json(module, spec, f, n), FIELD_KEYS) for n, f in enumerate(spec.fields, 1)]

    def field_json(self, module: Module, spec: ModuleFields, field: Field, sequence: int) -> dict[str, Any]:
        """Every key of one field (unordered)."""
        kind, writable = field.data_type, not field.read_only
        empty = self._empty()
        layout = {"api_name": STANDARD_LAYOUT, "name": STANDARD_LAYOUT, "id": self.layout_id(module)}
        auto = ({"starting_number_length": 0, "prefix": None, "suffix": None, "start_number": 1}
                if kind == "autonumber" else empty)
        return {
            "associated_module": None, "webhook": True,
            "operation_type": {"web_update": writable, "api_create": writable, "web_create": writable,
                               "api_update": writable},
            "colour_code_enabled_by_system": False, "field_label": field.field_label, "tooltip": None,
            "textarea": {"type": "large"} if kind == "textarea" else None, "type": "used",
            "field_read_only": field.read_only, "customizable_properties": [], "display_label": field.field_label,
            "read_only": field.read_only, "association_details": None,
            "businesscard_supported": not field.system and kind != "textarea", "multi_module_lookup": None,
            "sharing_properties": None, "id": self.field_id(module, field), "filterable": True,
            "created_time": None, "visible": True, "refer_from_field": None,
            "profiles": [{"permission_type": "read_write" if writable else "read_only", **self.profile()}],
            "view_type": {"view": True, "edit": writable, "quick_create": field.mandatory, "create": writable},
            "subform": None, "separator": False, "searchable": True, "show_type": 1, "external": None,
            "api_name": field.api_name, "enable_colour_code": False,
            "unique": {"casesensitive": "false"} if field.unique else empty,
            "pick_list_values": [self.pick_list_value(module, field, n, v) for n, v in enumerate(field.picklist, 1)],
            "system_mandatory": field.mandatory, "private": None, "virtual_field": False,
            "json_type": JSON_TYPES.get(kind, "string"), "crypt": None,
            "created_source": "custom" if field.custom else "default", "available_in_user_layout": True,
            "auto_number": auto, "allowed_modules": None, "display_type": -1, "ui_type": UI_TYPES.get(kind, 1),
            "modified_time": None, "file_upolad_optionlist": None, "quick_sequence_number": str(sequence),
            "email_parser": {"fields_update_supported": False, "record_operations_supported": False},
            "currency": {"rounding_option": "normal", "precision": 2} if kind == "currency" else empty,
            "multiuserlookup": None, "custom_field": field.custom, "lookup": self.lookup(module, field),
            "hipaa_compliance": None, "convert_mapping": None, "rollup_summary": None,
            "column_name": field.api_name.upper(), "length": field.length or 0, "default_value": None,
            "display_field": field.api_name == spec.name_field, "pick_list_values_sorted_lexically": False,
            "sortable": kind not in ("textarea", "multiselectpicklist"), "number_separator": False,
            "layout_associations": [layout], "sequence_number": sequence, "global_picklist": None,
            "autonumber": auto, "history_tracking": None, "data_type": kind, "sub_module": None, "formula": empty,
            "additional_column": None, "static_field": False, "category": 0, "hipaa_compliance_enabled": False,
            "mass_update": writable and not field.system and not field.unique,
            "decimal_place": 2 if kind in DECIMAL_TYPES else None, "blueprint_supported": writable,
            "multiselectlookup": empty,
        }

    def pick_list_value(self, module: Module, field: Field, sequence: int, value: str) -> dict[str, Any]:
        """One allowed value of a picklist (OAS v8 `pick_list_values`)."""
        return {"colour_code": None, "actual_value": value, "type": "used",
                "id": self._id("pick_list_value", module.api_name, field.api_name, value),
                "sequence_number": sequence, "display_value": value, "reference_value": value}

    def lookup(self, module: Module, field: Field) -> dict[str, Any] | None:
        """A lookup field's target, with the related list of the target module it fills (OAS v8 `lookup`)."""
        if field.data_type != "lookup" or field.lookup is None:
            return self._empty()
        target = self.product.module(field.lookup)
        target_id = self.product.module_id(target) if target is not None else self._id("module", field.lookup)
        target_name = target.api_name if target is not None else field.lookup
        return {"query_details": {}, "module": {"api_name": target_name, "id": target_id},
                "display_label": labels(module)[0], "api_name": module.api_name,
                "id": self._id("related_list", target_name, module.api_name),
                "revalidate_filter_during_edit": False, "show_fields": []}

    # -- layouts ---------------------------------------------------------------------------------

    def layouts(self, module: Module, principal: Principal) -> dict[str, Any]:
        """`GET /settings/layouts?module=`: the one standard layout."""
        return {"layouts": [self._layout(module, principal)]}

    def layout(self, module: Module, principal: Principal, layout_id: str) -> dict[str, Any] | None:
        """`GET /settings/layouts/{id}?module=`; None for another id."""
        return self.layouts(module, principal) if layout_id == self.layout_id(module) else None

    def _layout(self, module: Module, principal: Principal) -> dict[str, Any]:
        layout_id = self.layout_id(module)
        view = {"name": STANDARD_LAYOUT, "id": layout_id, "type": "layout"}
        owner = self._first_user(principal)
        return {
            "display_type": -1, "api_name": STANDARD_LAYOUT, "has_more_profiles": False, "created_time": None,
            "modified_time": None, "visible": True, "source": self.product.name, "id": layout_id,
            "name": STANDARD_LAYOUT, "display_label": STANDARD_LAYOUT, "mode": "standard",
            "subform_properties": None, "status": "active", "show_business_card": False,
            "generated_type": "default", "created_for": None, "convert_mapping": None, "modified_by": None,
            "profiles": [{"default": True, **self.profile(), "_default_view": view,
                          "_default_assignment_view": view}],
            "created_by": owner, "sections": [self._section(module)],
            "actions_allowed": {"edit": True, "rename": False, "clone": True, "downgrade": False,
                                "delete": False, "deactivate": False, "set_layout_permissions": True},
        }

    def _first_user(self, principal: Principal) -> dict[str, str] | None:
        users = self.store.users(principal.org)
        return {"name": users[0].name, "id": users[0].id} if users else None

    def _section(self, module: Module) -> dict[str, Any]:
        singular = labels(module)[1]
        section_id = self._id("section", module.api_name, STANDARD_LAYOUT, "1")
        spec = self.product.fields(module)
        keys = tuple(k for key in FIELD_KEYS for k in (key, *SECTION_FIELD_EXTRA.get(key, ())))
        fields = [ordered({**self.field_json(module, spec, f, n), "required": f.mandatory,
                           "validation_rule": None, "section_id": 1}, keys)
                  for n, f in enumerate(spec.fields, 1)]
        return {"display_label": f"{singular} Information", "sequence_number": 1, "isSubformSection": False,
                "tab_traversal": 1, "api_name": f"{singular.replace(' ', '_')}_Information", "column_count": 2,
                "name": f"{singular} Information", "generated_type": "default", "id": section_id, "type": "used",
                "fields": fields, "properties": None}

    # -- related lists ---------------------------------------------------------------------------

    def related_lists(self, module: Module) -> dict[str, Any]:
        """`GET /settings/related_lists?module=`."""
        spec = self.product.fields(module)
        return {"related_lists": [self.related_list_json(module, r, n) for n, r in enumerate(spec.related_lists, 1)]}

    def related_list(self, module: Module, related_list_id: str) -> dict[str, Any] | None:
        """`GET /settings/related_lists/{id}?module=`; None for an id the module has no list with."""
        found = [r for r in self.related_lists(module)["related_lists"] if r["id"] == related_list_id]
        return {"related_lists": found} if found else None

    def related_list_json(self, module: Module, related: RelatedList, sequence: int) -> dict[str, Any]:
        """One related list (OAS v8 `related_list`); `href` is the URL of its records below the record."""
        target = self.product.module(related.module)
        target_id = self.product.module_id(target) if target is not None else self._id("module", related.module)
        return {"id": self.related_list_id(module, related.api_name), "sequence_number": str(sequence),
                "display_label": related.display_label, "api_name": related.api_name,
                "module": {"api_name": target.api_name if target is not None else related.module, "id": target_id},
                "name": related.api_name, "action": None,
                "href": f"{module.api_name}/{{ENTITYID}}/{related.api_name}", "type": "default",
                "connectedmodule": None, "linkingmodule": None, "customize_sort": False, "customize_fields": False,
                "customize_display_label": False, "sort_by": None, "sort_order": None, "fields": None,
                "status": "visible"}

    # -- modules ---------------------------------------------------------------------------------

    def modules(self) -> dict[str, Any]:
        """`GET /settings/modules`: the product's catalogue, fixture modules included."""
        keys = tuple(k for k in MODULE_KEYS if k not in MODULE_DETAIL_ONLY)
        return {"modules": [ordered(self.module_json(m, n), keys) for n, m in enumerate(self.product.modules, 1)]}

    def module_detail(self, api_name: str) -> dict[str, Any]:
        """`GET /settings/modules/{api_name}` (or `/{id}`): one module with its fields, layouts and related lists."""
        module = self.product.module(api_name) or next(
            (m for m in self.product.modules if self.product.module_id(m) == api_name), None)
        if module is None:
            raise ZohoError("INVALID_MODULE")
        sequence = self.product.modules.index(module) + 1
        values = self.module_json(module, sequence)
        if module.api_supported:
            spec = self.product.fields(module)
            name = spec.field(spec.name_field) if spec.name_field else None
            values |= {"fields": self._field_list(module),
                       "related_lists": self.related_lists(module)["related_lists"],
                       "layouts": [{"name": STANDARD_LAYOUT, "id": self.layout_id(module)}],
                       "display_field": None if name is None else {"api_name": name.api_name,
                                                                   "id": self.field_id(module, name)}}
        return {"modules": [ordered(values, MODULE_KEYS)]}

    def module_json(self, module: Module, sequence: int) -> dict[str, Any]:
        """Every key of one module; the detail-only ones as a module without fields shows them."""
        plural, singular = labels(module)
        supported, lower = module.api_supported, module.api_name.lower()
        return {
            "has_more_profiles": False, "sub_menu_available": supported, "global_search_supported": supported,
            "deletable": module.custom, "description": None, "creatable": supported, "recycle_bin_on_delete": True,
            "inventory_template_supported": lower in INVENTORY, "modified_time": None, "plural_label": plural,
            "presence_sub_menu": False, "triggers_supported": supported, "id": self.product.module_id(module),
            "chart_view": False, "isBlueprintSupported": supported, "visibility": 1, "visible": True,
            "convertable": lower == "leads" and self.product.name == "crm", "editable": supported,
            "emailTemplate_support": supported, "email_parser_supported": False, "filter_supported": supported,
            "show_as_tab": True, "web_link": None, "sequence_number": sequence, "singular_label": singular,
            "viewable": True, "api_supported": supported, "api_name": module.api_name, "quick_create": supported,
            "generated_type": "custom" if module.custom else "default", "feeds_required": False,
            "scoring_supported": lower in SCORING, "webform_supported": lower in WEBFORMS, "territory": None,
            "arguments": [], "module_name": module.display_name, "chart_view_supported": False,
            "profile_count": 1, "business_card_field_limit": 5, "track_current_data": False,
            "modified_by": None, "profiles": [self.profile()], "parent_module": self._empty(),
            "activity_badge": "Not_Supported", "$field_states": [], "business_card_fields": [], "per_page": 200,
            "$properties": [], "$on_demand_properties": [], "search_layout_fields": [],
            "kanban_view_supported": False, "lookup_field_properties": None, "kanban_view": False,
            "related_lists": [], "filter_status": supported, "related_list_properties": None,
            "display_field": None, "layouts": [], "fields": [], "custom_view": None, "zia_view": False,
            "default_mapping_fields": [], "status": "visible", "static_subform_properties": None,
            "layout_associations": [],
        }

    # -- the org ---------------------------------------------------------------------------------

    def org(self, principal: Principal) -> dict[str, Any]:
        """`GET /org`: the caller's org, its country and currency those of its data centre."""
        name, dc, time_zone = self.store.org(principal.org)
        users = self.store.users(principal.org)
        country, code, currency, iso, symbol, locale = DC_LOCALES.get(dc, DC_LOCALES["us"])
        zgid = numeric_id("zgid", principal.org)[:11]
        values = {
            "country": country, "photo_id": None, "city": None, "description": None, "mc_status": False,
            "gapps_enabled": False, "translation_enabled": False, "street": None, "domain_name": principal.org,
            "alias": None, "currency": currency, "id": numeric_id("org", principal.org), "state": None,
            "fax": None, "zip": None, "employee_count": str(len(users)), "website": None, "currency_symbol": symbol,
            "mobile": None, "currency_locale": locale,
            "primary_zuid": numeric_id("zuid", principal.org, users[0].id)[:9] if users else None,
            "zia_portal_id": None, "time_zone": time_zone, "zgid": zgid, "country_code": code,
            "deletable_org_account": False,
            "license_details": {"paid_expiry": None, "users_license_purchased": len(users), "trial_type": None,
                                "trial_expiry": None, "paid": True, "paid_type": "enterprise",
                                "trial_action": None},
            "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": False}, "phone": None,
            "company_name": name or principal.org, "privacy_settings": False,
            "primary_email": users[0].email if users else None, "iso_code": iso, "hipaa_compliance_enabled": False,
            "lite_users_enabled": False, "max_per_page": 200,
            "ezgid": hashlib.sha256(zgid.encode()).hexdigest()[:32], "call_icon": None, "oauth_presence": False,
            "zia_zgid": None, "checkin_preferences": {"restricted_event_types": None}, "type": "production",
            "created_time": None,
        }
        if self.legacy:
            values = {k: v for k, v in values.items() if k not in ORG_LATER_KEYS}
        return {"org": [values]}
