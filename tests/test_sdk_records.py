"""Zoho's CRM v8 SDK (zohocrmsdk8-0), unchanged, on the records API of a live mockzoho: RecordOperations and
FieldsOperations parse the answers into their own typed objects. Over the bundled fixtures and the records
tests' Gadgets module (a field of every data type)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from mockzoho.app import create_app
from servers import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "1000.MOCKZOHOCLIENT", "mockzoho-secret"
DATA = Path(__file__).resolve().parent / "data"
BUNDLED = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
    from zohocrmsdk.src.com.zoho.crm.api import record

    tmp = tmp_path_factory.mktemp("sdk-records")
    fixtures = tmp / "fixtures"
    fixtures.mkdir()
    for source in BUNDLED.glob("*.yaml"):
        shutil.copy(source, fixtures / source.name)
    shutil.copy(DATA / "records.yaml", fixtures / "zz-records.yaml")
    app = create_app({"state": tmp / "state.db", "fixtures": fixtures, "clock": "2025-06-01T12:00:00Z"})
    with serve_in_thread(app) as url:
        environment = DataCenter.Environment(url, f"{url}/oauth/v2/token", url)
        token = OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="1000.mock.refresh.full")
        (tmp / "sdk").mkdir()
        # A `switch_user` made by another test file in this process is kept per thread and would win over this.
        Initializer.LOCAL.init = None
        Initializer.initialize(environment=environment, token=token,
                               store=FileStore(file_path=str(tmp / "sdk/tokens.csv")),
                               sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=True),
                               resource_path=str(tmp / "sdk"),
                               logger=Logger.get_instance(level=Logger.Levels.INFO,
                                                          file_path=str(tmp / "sdk/sdk.log")))
        yield record


def body_of(sdk: Any, *records: Any, duplicate_check: list[str] | None = None) -> Any:
    wrapper = sdk.BodyWrapper()
    wrapper.set_data(list(records))
    if duplicate_check is not None:
        wrapper.set_duplicate_check_fields(duplicate_check)
    return wrapper


def one_success(response: Any, sdk: Any, status: int = 201) -> Any:
    entries = getattr(response.get_object(), "get_data", lambda: [])()
    assert response.get_status_code() == status, [(e.get_code().get_value(), e.get_details()) for e in entries]
    [entry] = response.get_object().get_data()
    assert isinstance(entry, sdk.SuccessResponse), vars(entry)
    return entry


def new_record(sdk: Any, **values: Any) -> Any:
    item = sdk.Record()
    for name, value in values.items():
        item.add_key_value(name, value)
    return item


def test_fields_operations_parse_every_field(sdk: Any) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
    params = ParameterMap()
    params.add(GetFieldsParam.module, "Gadgets")
    response = FieldsOperations().get_fields(params)
    assert response.get_status_code() == 200
    fields = {f.get_api_name(): f for f in response.get_object().get_fields()}
    assert fields["Launched_At"].get_data_type() == "datetime"
    assert fields["Serial"].get_unique() is not None
    assert [v.get_display_value() for v in fields["Colour"].get_pick_list_values()] == ["-None-", "Red", "Green",
                                                                                       "Blue"]
    assert fields["Account"].get_lookup().get_module().get_api_name() == "Accounts"


def test_create_get_update_upsert_search_delete(sdk: Any) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.users import MinifiedUser
    from zohocrmsdk.src.com.zoho.crm.api.util import Choice
    ops = sdk.RecordOperations("Gadgets")
    accounts = sdk.RecordOperations("Accounts")
    created = one_success(accounts.create_records(body_of(sdk, new_record(sdk, Account_Name="SDK Account"))), sdk)
    account_id = int(created.get_details()["id"])
    account = sdk.Record()
    account.set_id(account_id)
    launched = datetime(2025, 1, 15, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    gadget = new_record(sdk, Name="SDK gadget", Code="S-1", Serial="SDK-1", Units=4, Big_Count=2**40, Weight=1.25,
                        Active=True, Launch_Date=date(2025, 2, 28), Launched_At=launched, Account=account,
                        Tags=[Choice("Alpha"), Choice("Beta")], Contact_Email="sdk@zylker.example")
    entry = one_success(ops.create_records(body_of(sdk, gadget)), sdk)
    assert (entry.get_code().get_value(), entry.get_message().get_value()) == ("SUCCESS", "record added")
    gadget_id = int(entry.get_details()["id"])

    response = ops.get_record(gadget_id, ParameterMap(), HeaderMap())
    assert response.get_status_code() == 200
    [got] = response.get_object().get_data()
    assert got.get_id() == gadget_id
    # The same instant (shown as midnight at -08:00, which the SDK turns into the machine's local zone).
    assert got.get_key_value("Launched_At") == launched
    assert isinstance(got.get_key_value("Launched_At"), datetime)
    assert got.get_key_value("Launch_Date") == date(2025, 2, 28)
    assert isinstance(got.get_created_time(), datetime)
    linked = got.get_key_value("Account")
    assert isinstance(linked, sdk.Record) and linked.get_id() == account_id
    assert linked.get_key_value("name") == "SDK Account"
    owner = got.get_key_value("Owner")
    assert isinstance(owner, MinifiedUser) and (owner.get_name(), owner.get_email()) == (
        "Patricia Boyle", "patricia.boyle@zylker.example")
    assert (got.get_key_value("Units"), got.get_key_value("Big_Count"), got.get_key_value("Weight"),
            got.get_key_value("Active")) == (4, 2**40, 1.25, True)
    assert [v.get_value() if hasattr(v, "get_value") else v for v in got.get_key_value("Tags")] == ["Alpha", "Beta"]

    params = ParameterMap()
    params.add(sdk.GetRecordsParam.fields, "Name,Serial,Launched_At")
    listing = ops.get_records(params, HeaderMap())
    assert listing.get_status_code() == 200
    page = listing.get_object()
    assert [r.get_id() for r in page.get_data()] == [gadget_id] and page.get_info().get_count() == 1

    change = new_record(sdk, Name="SDK gadget v2")
    updated = one_success(ops.update_record(gadget_id, body_of(sdk, change)), sdk, 200)
    assert updated.get_message().get_value() == "record updated"
    many = new_record(sdk, Units=5)
    many.set_id(gadget_id)
    one_success(ops.update_records(body_of(sdk, many)), sdk, 200)

    upsert = one_success(ops.upsert_records(body_of(sdk, new_record(sdk, Name="upserted", Code="S-2",
                                                                    Serial="sdk-1"))), sdk, 200)
    assert int(upsert.get_details()["id"]) == gadget_id

    params = ParameterMap()
    params.add(sdk.SearchRecordsParam.criteria, "((Serial:equals:SDK-1)and(Units:greater_than:4))")
    found = ops.search_records(params, HeaderMap())
    assert found.get_status_code() == 200
    [hit] = found.get_object().get_data()
    assert (hit.get_id(), hit.get_key_value("Name")) == (gadget_id, "upserted")

    deleted = ops.delete_record(gadget_id, ParameterMap(), HeaderMap())
    [ok] = deleted.get_object().get_data()
    assert isinstance(ok, sdk.SuccessResponse)
    gone = ops.get_record(gadget_id, ParameterMap(), HeaderMap())
    assert gone.get_status_code() == 400 and gone.get_object().get_code().get_value() == "INVALID_DATA"


def test_a_refused_create_is_an_action_response_error(sdk: Any) -> None:
    ops = sdk.RecordOperations("Gadgets")
    response = ops.create_records(body_of(sdk, new_record(sdk, Name="no code")))
    assert response.get_status_code() == 400
    [entry] = response.get_object().get_data()
    assert (entry.get_code().get_value(), entry.get_details()) == (
        "MANDATORY_NOT_FOUND", {"api_name": "Code", "json_path": "$.data[0].Code"})


def test_leads_through_the_sdk(sdk: Any) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    ops = sdk.RecordOperations("Leads")
    lead = sdk.Record()
    lead.add_field_value(sdk.Field.Leads.last_name(), "Sdk")
    lead.add_field_value(sdk.Field.Leads.email(), "sdk.lead@zylker.example")
    lead_id = int(one_success(ops.create_records(body_of(sdk, lead)), sdk).get_details()["id"])
    [got] = ops.get_record(lead_id, ParameterMap(), HeaderMap()).get_object().get_data()
    assert (got.get_key_value("Last_Name"), got.get_key_value("Full_Name")) == ("Sdk", "Sdk")


def test_coql_operations_run_a_query_and_read_its_errors(sdk: Any) -> None:
    """`CoqlOperations.get_records` posts to /crm/v8/coql: rows become Records (dotted keys kept, ids as
    integers, lookups with their names), `info` an Info; a refusal an APIException with its details."""
    from zohocrmsdk.src.com.zoho.crm.api import coql
    body = coql.BodyWrapper()
    body.set_select_query("select Last_Name, Account_Name, Account_Name.Account_Name from Contacts where "
                          "Account_Name.Account_Name = 'Harborview Logistics' order by Last_Name desc limit 2")
    response = coql.CoqlOperations().get_records(body)
    assert response.get_status_code() == 200
    answer = response.get_object()
    assert isinstance(answer, coql.ResponseWrapper)
    rows = answer.get_data()
    assert [r.get_key_value("Account_Name.Account_Name") for r in rows] == ["Harborview Logistics"] * 2
    assert all(isinstance(r.get_id(), int) for r in rows)
    assert rows[0].get_key_value("Account_Name")["name"] == "Harborview Logistics"
    names = [r.get_key_value("Last_Name") for r in rows]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert (answer.get_info().get_count(), answer.get_info().get_more_records()) == (2, False)
    body.set_select_query("select Last_Name from Contacts where Last_Name = 'No such contact'")
    empty = coql.CoqlOperations().get_records(body)
    assert (empty.get_status_code(), empty.get_object()) == (204, None)
    body.set_select_query("select Last_Name from Contacts where Last_Name >= 'x'")
    error = coql.CoqlOperations().get_records(body).get_object()
    assert isinstance(error, coql.APIException)
    assert (error.get_code().get_value(), error.get_details()) == ("INVALID_QUERY", {
        "reason": "invalid operator found", "column_name": "Last_Name", "operator": ">="})
