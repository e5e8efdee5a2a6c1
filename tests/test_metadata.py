"""The metadata API on CRM and Bigin, every version: org, modules, fields, layouts and related lists, their
exact bodies, errors and scopes; and Zoho's v8 SDK parsing them unchanged."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import Target, auth
from mockzoho.ids import numeric_id
from mockzoho.zoho.metadata import FIELD_KEYS, MODULE_KEYS

JSON = "application/json;charset=utf-8"
LEGACY = {("crm", "v2"), ("crm", "v2.1"), ("bigin", "v1")}
SERVICE = {"crm": "ZohoCRM", "bigin": "ZohoBigin"}
ADMIN = {"name": "Administrator"}


def get(client: FlaskClient, url: str, token: str | None = None) -> tuple[int, Any]:
    response = client.get(url, headers=auth(token) if token else auth())
    assert response.headers["Content-Type"] == JSON
    return response.status_code, json.loads(response.data) if response.data else None


def ids(target: Target, *parts: str) -> str:
    return numeric_id(target.product, *parts)


def empty(target: Target) -> dict | None:
    return {} if (target.product, target.version) in LEGACY else None


def mint(client: FlaskClient, *scopes: str) -> str:
    return client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                "scopes": list(scopes)}).json["access_token"]


def modified_time(target: Target, sequence: int) -> dict[str, Any]:
    """The system field every module has, as GET /settings/fields shows it."""
    module = target.module
    return {
        "associated_module": None, "webhook": True,
        "operation_type": {"web_update": False, "api_create": False, "web_create": False, "api_update": False},
        "colour_code_enabled_by_system": False, "field_label": "Modified Time", "tooltip": None, "textarea": None,
        "type": "used", "field_read_only": True, "customizable_properties": [], "display_label": "Modified Time",
        "read_only": True, "association_details": None, "businesscard_supported": False,
        "multi_module_lookup": None, "sharing_properties": None, "id": ids(target, "field", module, "Modified_Time"),
        "filterable": True, "created_time": None, "visible": True, "refer_from_field": None,
        "profiles": [{"permission_type": "read_only", **ADMIN, "id": ids(target, "profile", "Administrator")}],
        "view_type": {"view": True, "edit": False, "quick_create": False, "create": False}, "subform": None,
        "separator": False, "searchable": True, "show_type": 1, "external": None, "api_name": "Modified_Time",
        "enable_colour_code": False, "unique": empty(target), "pick_list_values": [], "system_mandatory": False,
        "private": None, "virtual_field": False, "json_type": "string", "crypt": None, "created_source": "default",
        "available_in_user_layout": True, "auto_number": empty(target), "allowed_modules": None,
        "display_type": -1, "ui_type": 333, "modified_time": None, "file_upolad_optionlist": None,
        "quick_sequence_number": str(sequence),
        "email_parser": {"fields_update_supported": False, "record_operations_supported": False},
        "currency": empty(target), "multiuserlookup": None, "custom_field": False, "lookup": empty(target),
        "hipaa_compliance": None, "convert_mapping": None, "rollup_summary": None, "column_name": "MODIFIED_TIME",
        "length": 0, "default_value": None, "display_field": False, "pick_list_values_sorted_lexically": False,
        "sortable": True, "number_separator": False,
        "layout_associations": [{"api_name": "Standard", "name": "Standard",
                                 "id": ids(target, "layout", module, "Standard")}],
        "sequence_number": sequence, "global_picklist": None, "autonumber": empty(target), "history_tracking": None,
        "data_type": "datetime", "sub_module": None, "formula": empty(target), "additional_column": None,
        "static_field": False, "category": 0, "hipaa_compliance_enabled": False, "mass_update": False,
        "decimal_place": None, "blueprint_supported": False, "multiselectlookup": empty(target),
    }


# -- fields --------------------------------------------------------------------------------------

def test_fields(client: FlaskClient, target: Target) -> None:
    status, body = get(client, target.url(f"settings/fields?module={target.module.lower()}"))
    assert status == 200 and list(body) == ["fields"]
    fields = body["fields"]
    assert all(list(f) == list(FIELD_KEYS) for f in fields)
    names = [f["api_name"] for f in fields]
    assert names[-5:] == ["Owner", "Created_By", "Modified_By", "Created_Time", "Modified_Time"]
    assert fields[-1] == modified_time(target, len(fields))
    assert json.dumps(fields[-1]) == json.dumps(modified_time(target, len(fields)))  # the key order too
    assert len({f["id"] for f in fields}) == len(fields)
    assert {f["json_type"] for f in fields if f["data_type"] == "ownerlookup"} == {"jsonobject"}
    # One field by id.
    assert get(client, target.url(f"settings/fields/{fields[0]['id']}?module={target.module}")) == (
        200, {"fields": [fields[0]]})


def test_a_picklist_and_a_mandatory_field(client: FlaskClient) -> None:
    fields = {f["api_name"]: f for f in get(client, "/crm/v8/settings/fields?module=Leads")[1]["fields"]}
    status = fields["Lead_Status"]
    assert (status["data_type"], status["json_type"], status["ui_type"]) == ("picklist", "string", 2)
    assert status["pick_list_values"][1] == {
        "colour_code": None, "actual_value": "Attempted to Contact", "type": "used",
        "id": numeric_id("crm", "pick_list_value", "Leads", "Lead_Status", "Attempted to Contact"),
        "sequence_number": 2, "display_value": "Attempted to Contact", "reference_value": "Attempted to Contact"}
    last = fields["Last_Name"]
    assert (last["system_mandatory"], last["length"], last["view_type"]["quick_create"]) == (True, 80, True)
    assert fields["Full_Name"]["display_field"] and fields["Full_Name"]["read_only"]
    assert fields["Annual_Revenue"]["currency"] == {"rounding_option": "normal", "precision": 2}
    assert (fields["Annual_Revenue"]["json_type"], fields["Annual_Revenue"]["decimal_place"]) == ("double", 2)
    assert fields["No_of_Employees"]["json_type"] == "integer" and fields["Email_Opt_Out"]["json_type"] == "boolean"
    assert fields["Description"]["textarea"] == {"type": "large"}
    assert fields["Designation"]["field_label"] == fields["Designation"]["display_label"] == "Title"


def test_custom_fields_and_lookups() -> None:
    # Fixtures cannot declare fields yet: the metadata of a module that has some, directly.
    from mockzoho.crm import CRM
    from mockzoho.zoho.fields import Field
    from mockzoho.zoho.metadata import Metadata
    from mockzoho.zoho.product import Module
    vehicles = Module("Vehicles", "custom", custom_fields=(
        Field("Plate__c", "text", length=12, unique=True, custom=True),
        Field("Buyer__c", "lookup", lookup="Contacts", custom=True)))
    body = Metadata(None, CRM.with_modules([vehicles]), "v8").fields(vehicles)  # type: ignore[arg-type]
    fields = {f["api_name"]: f for f in body["fields"]}
    assert list(fields)[0] == "Name" and list(fields)[-2:] == ["Plate__c", "Buyer__c"]  # after the system fields
    plate, buyer = fields["Plate__c"], fields["Buyer__c"]
    assert (plate["custom_field"], plate["created_source"], plate["unique"]) == (True, "custom",
                                                                                 {"casesensitive": "false"})
    assert buyer["json_type"] == "jsonobject" and buyer["lookup"] == {
        "query_details": {}, "module": {"api_name": "Contacts", "id": numeric_id("crm", "module", "Contacts")},
        "display_label": "Vehicles", "api_name": "Vehicles",
        "id": numeric_id("crm", "related_list", "Contacts", "Vehicles"),
        "revalidate_filter_during_edit": False, "show_fields": []}


# -- layouts -------------------------------------------------------------------------------------

def test_layouts(client: FlaskClient, target: Target) -> None:
    status, body = get(client, target.url(f"settings/layouts?module={target.module}"))
    assert status == 200
    [layout] = body["layouts"]
    layout_id = ids(target, "layout", target.module, "Standard")
    [section] = layout.pop("sections")
    view = {"name": "Standard", "id": layout_id, "type": "layout"}
    assert json.dumps(layout) == json.dumps({
        "display_type": -1, "api_name": "Standard", "has_more_profiles": False, "created_time": None,
        "modified_time": None, "visible": True, "source": target.product, "id": layout_id, "name": "Standard",
        "display_label": "Standard", "mode": "standard", "subform_properties": None, "status": "active",
        "show_business_card": False, "generated_type": "default", "created_for": None, "convert_mapping": None,
        "modified_by": None,
        "profiles": [{"default": True, **ADMIN, "id": ids(target, "profile", "Administrator"),
                      "_default_view": view, "_default_assignment_view": view}],
        "created_by": {"name": "Patricia Boyle", "id": "2883756000000113001"},
        "actions_allowed": {"edit": True, "rename": False, "clone": True, "downgrade": False, "delete": False,
                            "deactivate": False, "set_layout_permissions": True}})
    singular = target.module.removesuffix("s")
    fields = section.pop("fields")
    assert json.dumps(section) == json.dumps({
        "display_label": f"{singular} Information", "sequence_number": 1, "isSubformSection": False,
        "tab_traversal": 1, "api_name": f"{singular}_Information", "column_count": 2,
        "name": f"{singular} Information", "generated_type": "default",
        "id": ids(target, "section", target.module, "Standard", "1"), "type": "used", "properties": None})
    # The section holds the module's fields, with the layout's own keys.
    listed = get(client, target.url(f"settings/fields?module={target.module}"))[1]["fields"]
    assert [f["api_name"] for f in fields] == [f["api_name"] for f in listed]
    last = fields[-1]
    assert (last.pop("required"), last.pop("validation_rule"), last.pop("section_id")) == (False, None, 1)
    assert last == listed[-1]
    assert get(client, target.url(f"settings/layouts/{layout_id}?module={target.module}"))[1]["layouts"][0]["id"] \
        == layout_id
    assert client.get(target.url(f"settings/layouts/123?module={target.module}"), headers=auth()).status_code == 204


# -- related lists -------------------------------------------------------------------------------

def test_related_lists(client: FlaskClient, target: Target) -> None:
    status, body = get(client, target.url(f"settings/related_lists?module={target.module}"))
    assert status == 200
    lists = {r["api_name"]: r for r in body["related_lists"]}
    notes = lists["Notes"]
    assert json.dumps(notes) == json.dumps({
        "id": ids(target, "related_list", target.module, "Notes"), "sequence_number": notes["sequence_number"],
        "display_label": "Notes", "api_name": "Notes",
        "module": {"api_name": "Notes", "id": ids(target, "module", "Notes")}, "name": "Notes", "action": None,
        "href": f"{target.module}/{{ENTITYID}}/Notes", "type": "default", "connectedmodule": None,
        "linkingmodule": None, "customize_sort": False, "customize_fields": False,
        "customize_display_label": False, "sort_by": None, "sort_order": None, "fields": None,
        "status": "visible"})
    assert "Attachments" in lists
    one = get(client, target.url(f"settings/related_lists/{notes['id']}?module={target.module}"))
    assert one == (200, {"related_lists": [notes]})


# -- modules -------------------------------------------------------------------------------------

def test_modules(client: FlaskClient, target: Target) -> None:
    status, body = get(client, target.url("settings/modules"))
    assert status == 200
    modules = {m["api_name"]: m for m in body["modules"]}
    module = modules[target.module]
    listed_keys = [k for k in MODULE_KEYS if k in module]
    assert list(module) == listed_keys and "fields" not in module and "related_lists" not in module
    crm = target.product == "crm"
    assert json.dumps(module) == json.dumps({
        "has_more_profiles": False, "sub_menu_available": True, "global_search_supported": True,
        "deletable": False, "description": None, "creatable": True, "recycle_bin_on_delete": True,
        "inventory_template_supported": False, "modified_time": None, "plural_label": target.module,
        "presence_sub_menu": False, "triggers_supported": True, "id": ids(target, "module", target.module),
        "chart_view": False, "isBlueprintSupported": True, "visibility": 1, "visible": True, "convertable": crm,
        "editable": True, "emailTemplate_support": True, "email_parser_supported": False, "filter_supported": True,
        "show_as_tab": True, "web_link": None, "sequence_number": 1,
        "singular_label": target.module.removesuffix("s"), "viewable": True, "api_supported": True,
        "api_name": target.module, "quick_create": True, "generated_type": "default", "feeds_required": False,
        "scoring_supported": True, "webform_supported": crm, "territory": None, "arguments": [],
        "module_name": target.module, "chart_view_supported": False, "profile_count": 1,
        "business_card_field_limit": 5, "track_current_data": False, "modified_by": None,
        "profiles": [{**ADMIN, "id": ids(target, "profile", "Administrator")}], "parent_module": empty(target),
        "status": "visible"})
    # The detail adds fields, related lists, layouts and the display field; by API name or by id.
    status, detail = get(client, target.url(f"settings/modules/{target.module}"))
    [one] = detail["modules"]
    assert status == 200 and list(one) == list(MODULE_KEYS)
    assert one["fields"] == get(client, target.url(f"settings/fields?module={target.module}"))[1]["fields"]
    assert one["related_lists"] == get(client, target.url(f"settings/related_lists?module={target.module}"))[1][
        "related_lists"]
    assert one["layouts"] == [{"name": "Standard", "id": ids(target, "layout", target.module, "Standard")}]
    assert {k: v for k, v in one.items() if k in module} == module
    assert get(client, target.url(f"settings/modules/{module['id']}")) == (200, detail)


def test_module_labels(client: FlaskClient) -> None:
    modules = {m["api_name"]: m for m in get(client, "/crm/v8/settings/modules")[1]["modules"]}
    assert (modules["Sales_Orders"]["plural_label"], modules["Sales_Orders"]["singular_label"]) == (
        "Sales Orders", "Sales Order")
    assert (modules["Events"]["module_name"], modules["Events"]["singular_label"]) == ("Meetings", "Meeting")
    assert modules["Appointments__s"]["plural_label"] == "Appointments"
    assert modules["Quotes"]["inventory_template_supported"] and not modules["Documents"]["api_supported"]


# -- org -----------------------------------------------------------------------------------------

def test_org(client: FlaskClient, target: Target) -> None:
    status, body = get(client, target.url("org"))
    assert status == 200
    zgid = numeric_id("zgid", "zylker-us")[:11]
    expected = {
        "country": "United States", "photo_id": None, "city": None, "description": None, "mc_status": False,
        "gapps_enabled": False, "translation_enabled": False, "street": None, "domain_name": "zylker-us",
        "alias": None, "currency": "US Dollar", "id": numeric_id("org", "zylker-us"), "state": None, "fax": None,
        "zip": None, "employee_count": "3", "website": None, "currency_symbol": "$", "mobile": None,
        "currency_locale": "en_US", "primary_zuid": numeric_id("zuid", "zylker-us", "2883756000000113001")[:9],
        "zia_portal_id": None, "time_zone": "America/Los_Angeles", "zgid": zgid, "country_code": "US",
        "deletable_org_account": False,
        "license_details": {"paid_expiry": None, "users_license_purchased": 3, "trial_type": None,
                            "trial_expiry": None, "paid": True, "paid_type": "enterprise", "trial_action": None},
        "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": False}, "phone": None,
        "company_name": "Zylker (US)", "privacy_settings": False, "primary_email": "patricia.boyle@zylker.example",
        "iso_code": "USD", "hipaa_compliance_enabled": False, "lite_users_enabled": False, "max_per_page": 200,
        "ezgid": body["org"][0].get("ezgid"), "call_icon": None, "oauth_presence": False, "zia_zgid": None,
        "checkin_preferences": {"restricted_event_types": None}, "type": "production", "created_time": None,
    }
    if (target.product, target.version) in LEGACY:
        expected = {k: v for k, v in expected.items() if k not in {
            "deletable_org_account", "hierarchy_preferences", "hipaa_compliance_enabled", "lite_users_enabled",
            "max_per_page", "ezgid", "call_icon", "oauth_presence", "zia_zgid", "checkin_preferences", "type",
            "created_time"}}
    assert json.dumps(body) == json.dumps({"org": [expected]})


def test_org_of_another_data_centre(client: FlaskClient) -> None:
    org = client.get("/crm/v8/org", headers={**auth("1000.mock.eu"), "Host": "www.zohoapis.eu"}).json["org"][0]
    assert (org["country"], org["country_code"], org["iso_code"], org["currency_symbol"]) == ("Germany", "DE", "EUR",
                                                                                            "€")


# -- errors --------------------------------------------------------------------------------------

MISSING = {"code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "module"},
           "message": "One of the expected parameter is missing", "status": "error"}
INVALID = {"code": "INVALID_MODULE", "details": {}, "message": "the module name given seems to be invalid",
           "status": "error"}
UNSUPPORTED = {**INVALID, "message": "the given module is not supported in api"}
SCOPE = {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL",
         "status": "error"}
MODULE_PARAM = ("settings/fields", "settings/fields/1", "settings/layouts", "settings/layouts/1",
                "settings/related_lists", "settings/related_lists/1")


@pytest.mark.parametrize("path", MODULE_PARAM)
def test_module_parameter_errors(client: FlaskClient, target: Target, path: str) -> None:
    assert get(client, target.url(path)) == (400, MISSING)
    assert get(client, target.url(f"{path}?module=")) == (400, MISSING)
    assert get(client, target.url(f"{path}?module=Nothing")) == (400, INVALID)
    assert get(client, target.url(f"{path}?module=Home")) == (400, UNSUPPORTED)


def test_unknown_ids_and_modules(client: FlaskClient, target: Target) -> None:
    for path in ("settings/fields/1", "settings/related_lists/1"):
        response = client.get(target.url(f"{path}?module={target.module}"), headers=auth())
        assert (response.status_code, response.data) == (204, b"")
    assert get(client, target.url("settings/modules/Nothing")) == (400, INVALID)
    home = get(client, target.url("settings/modules/Home"))[1]["modules"][0]
    assert home["api_supported"] is False and home["fields"] == []


@pytest.mark.parametrize("path,scope", [
    ("org", "org"), ("settings/modules", "settings.modules"), ("settings/modules/{module}", "settings.modules"),
    ("settings/fields?module={module}", "settings.fields"), ("settings/layouts?module={module}", "settings.layouts"),
    ("settings/related_lists?module={module}", "settings.related_lists")])
def test_scopes(client: FlaskClient, target: Target, path: str, scope: str) -> None:
    url = target.url(path.format(module=target.module))
    service = SERVICE[target.product]
    assert get(client, url, "1000.mock.read-only") == (401, SCOPE)
    allowed = [f"{service}.{scope}.READ", f"{service}.{scope}.ALL"]
    if scope != "org":
        allowed += [f"{service}.settings.READ", f"{service}.settings.ALL"]
    for granted in allowed:
        assert get(client, url, mint(client, granted))[0] == 200, granted
    other = "settings.layouts" if scope != "settings.layouts" else "settings.fields"
    assert get(client, url, mint(client, f"{service}.{other}.ALL"))[0] == 401
    wrong_product = {"crm": "ZohoBigin", "bigin": "ZohoCRM"}[target.product]
    assert get(client, url, mint(client, f"{wrong_product}.settings.ALL", f"{wrong_product}.org.ALL"))[0] == 401


# -- Zoho's v8 SDK -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("zohocrmsdk", reason="pip install 'mockzoho[sdk]'")
    from mockzoho.app import create_app
    from servers import serve_in_thread
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

    tmp = tmp_path_factory.mktemp("metadata-sdk")
    app: Flask = create_app({"state": tmp / "state.db"})
    with serve_in_thread(app) as url:
        environment = DataCenter.Environment(url, f"{url}/oauth/v2/token", url)
        token = OAuthToken(client_id="1000.MOCKZOHOCLIENT", client_secret="mockzoho-secret",
                           refresh_token="1000.mock.refresh.full")
        Initializer.initialize(environment=environment, token=token,
                               store=FileStore(file_path=str(tmp / "tokens.csv")),
                               sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
                               resource_path=str(tmp),
                               logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=str(tmp / "sdk.log")))
        yield


def test_sdk_get_fields(sdk: None) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap, fields
    params = ParameterMap()
    params.add(fields.GetFieldsParam.module, "Leads")
    response = fields.FieldsOperations().get_fields(params)
    assert response.get_status_code() == 200
    wrapper = response.get_object()
    assert isinstance(wrapper, fields.ResponseWrapper)
    by_name = {f.get_api_name(): f for f in wrapper.get_fields()}
    status = by_name["Lead_Status"]
    assert status.get_id() == int(numeric_id("crm", "field", "Leads", "Lead_Status"))
    assert (status.get_data_type(), status.get_json_type(), status.get_field_label()) == (
        "picklist", "string", "Lead Status")
    assert [v.get_display_value() for v in status.get_pick_list_values()][:2] == ["-None-", "Attempted to Contact"]
    assert by_name["Last_Name"].get_system_mandatory() is True and by_name["Full_Name"].get_read_only() is True
    assert by_name["Annual_Revenue"].get_currency().get_precision() == 2
    assert by_name["Owner"].get_view_type().get_view() is True


def test_sdk_get_modules(sdk: None) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import modules
    response = modules.ModulesOperations().get_modules()
    assert response.get_status_code() == 200
    listed = {m.get_api_name(): m for m in response.get_object().get_modules()}
    leads = listed["Leads"]
    assert (leads.get_id(), leads.get_plural_label(), leads.get_api_supported()) == (
        int(numeric_id("crm", "module", "Leads")), "Leads", True)
    assert leads.get_generated_type().get_value() == "default" and listed["Events"].get_module_name() == "Meetings"
    [lead] = modules.ModulesOperations().get_module_by_api_name("Leads").get_object().get_modules()
    assert lead.get_display_field() == {"api_name": "Full_Name", "id": numeric_id("crm", "field", "Leads", "Full_Name")}
    assert [r.get_href() for r in lead.get_related_lists()] == ["Leads/{ENTITYID}/Notes", "Leads/{ENTITYID}/Attachments"]
    assert "Email" in [f.get_api_name() for f in lead.get_fields()]
    [by_id] = modules.ModulesOperations().get_module(int(numeric_id("crm", "module", "Leads"))).get_object(
        ).get_modules()
    assert by_id.get_api_name() == "Leads"
