"""Zoho's own Python SDKs (CRM v8, v2.1 and the legacy v2 one), unchanged, against a live mockzoho in
refresh-token mode."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask

from mockzoho.app import create_app
from servers import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "1000.MOCKZOHOCLIENT", "mockzoho-secret"
LEAD = 2883756000000261075


def message(obj: Any) -> str:
    text = obj.get_message()
    return text.get_value() if hasattr(text, "get_value") else text


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask, Path]]:
    tmp = tmp_path_factory.mktemp("sdk")
    app = create_app({"state": tmp / "state.db"})
    with serve_in_thread(app) as url:
        yield url, app, tmp


# -- CRM v8: zohocrmsdk8-0 -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def v8(live: tuple[str, Flask, Path]) -> Any:
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api.dc import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

    url, _, tmp = live
    (tmp / "v8").mkdir()
    environment = DataCenter.Environment(url, f"{url}/oauth/v2/token", url)
    token = OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="1000.mock.refresh.full")
    Initializer.initialize(environment=environment, token=token, store=FileStore(file_path=str(tmp / "v8/tokens.csv")),
                           sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
                           resource_path=str(tmp / "v8"),
                           logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=str(tmp / "v8/sdk.log")))
    from zohocrmsdk.src.com.zoho.crm.api import attachments
    return attachments


def test_v8_refreshes_its_token_from_the_mock(live: tuple[str, Flask, Path], v8: Any) -> None:
    _, app, tmp = live
    [response] = v8.AttachmentsOperations().delete_attachment(2883756000000261020, LEAD, "Leads").get_object().get_data()
    assert isinstance(response, v8.SuccessResponse)
    saved = (tmp / "v8/tokens.csv").read_text()
    issued = app.extensions["mockzoho"].store.connection().execute(
        "SELECT token FROM tokens WHERE refresh_token = '1000.mock.refresh.full'").fetchall()
    assert issued and all(t in saved for (t,) in issued)
    assert "patricia.boyle@zylker.example" in saved  # the SDK asked GET /users?type=CurrentUser


def test_v8_delete_and_delete_again(v8: Any) -> None:
    ops = v8.AttachmentsOperations()
    first = ops.delete_attachment(2883756000000261017, LEAD, "Leads")
    assert first.get_status_code() == 200
    [ok] = first.get_object().get_data()
    assert (ok.get_code().get_value(), ok.get_details(), message(ok)) == (
        "SUCCESS", {"id": 2883756000000261017}, "record deleted")
    again = ops.delete_attachment(2883756000000261017, LEAD, "Leads")
    error = again.get_object()
    assert again.get_status_code() == 400 and isinstance(error, v8.APIException)
    assert (error.get_code().get_value(), message(error)) == ("INVALID_DATA", "the id given seems to be invalid")


def test_v8_bulk_delete(v8: Any) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    params = ParameterMap()
    params.add(v8.DeleteAttachmentsParam.ids, "2883756000000261018")
    params.add(v8.DeleteAttachmentsParam.ids, "1234567890")
    response = v8.AttachmentsOperations().delete_attachments(LEAD, "Leads", params)
    assert response.get_status_code() == 207
    ok, failed = response.get_object().get_data()
    assert isinstance(ok, v8.SuccessResponse) and ok.get_details() == {"id": 2883756000000261018}
    # The SDK maps every entry of this envelope to SuccessResponse; the failure shows in its code and status.
    assert (failed.get_code().get_value(), failed.get_status().get_value(), message(failed)) == (
        "INVALID_DATA", "error", "record not deleted")


def test_v8_invalid_module(v8: Any) -> None:
    response = v8.AttachmentsOperations().delete_attachment(1, LEAD, "Leadz")
    error = response.get_object()
    assert (response.get_status_code(), error.get_code().get_value(), error.get_details()) == (
        400, "INVALID_MODULE", {"resource_path_index": 0})


def test_v8_upload_list_download(v8: Any, tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.util import StreamWrapper
    payload = tmp_path / "report.txt"
    payload.write_bytes(b"quarterly report \xff\x00\n" * 100)
    ops = v8.AttachmentsOperations()
    body = v8.FileBodyWrapper()
    body.set_file(StreamWrapper(file_path=str(payload)))
    uploaded = ops.upload_attachments(2883756000000261101, "Leads", body)
    [ok] = uploaded.get_object().get_data()
    assert uploaded.get_status_code() == 200 and message(ok) == "attachment uploaded successfully"
    new_id = ok.get_details()["id"]

    params = ParameterMap()
    params.add(v8.GetAttachmentsParam.fields, "id,File_Name,Size,Owner,Created_Time")
    listing = ops.get_attachments(2883756000000261101, "Leads", params).get_object()
    [item] = listing.get_data()
    assert (item.get_id(), item.get_file_name(), item.get_size()) == (new_id, "report.txt", "2000")
    assert item.get_owner().get_name() == "Patricia Boyle" and listing.get_info().get_count() == 1

    download = ops.get_attachment(new_id, 2883756000000261101, "Leads")
    stream = download.get_object().get_file()
    assert download.get_status_code() == 200 and stream.get_name() == "report.txt"
    content = b"".join(stream.get_stream())
    assert hashlib.sha256(content).digest() == hashlib.sha256(payload.read_bytes()).digest()


def test_v8_record_delete(v8: Any) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import RecordOperations, SuccessResponse
    response = RecordOperations("Leads").delete_record(2883756000000261102, ParameterMap(), HeaderMap())
    [ok] = response.get_object().get_data()
    assert isinstance(ok, SuccessResponse) and ok.get_details() == {"id": "2883756000000261102"}


def test_v8_token_without_attachments_scope(live: tuple[str, Flask, Path], v8: Any) -> None:
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    # find_user=False: this token may not read users, and the SDK's own log call for that failure is broken.
    Initializer.switch_user(token=OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                             refresh_token="1000.mock.refresh.no-attachments-scope",
                                             find_user=False))
    response = v8.AttachmentsOperations().delete_attachment(2883756000000261019, LEAD, "Leads")
    error = response.get_object()
    assert (response.get_status_code(), error.get_code().get_value(), message(error)) == (
        401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")


# -- CRM v2.1: zohocrmsdk2-1 ---------------------------------------------------------------------

def test_v21_sdk(live: tuple[str, Flask, Path]) -> None:
    from zcrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zcrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zcrmsdk.src.com.zoho.api.logger import Logger
    from zcrmsdk.src.com.zoho.crm.api import ParameterMap
    from zcrmsdk.src.com.zoho.crm.api.attachments import (APIException, AttachmentsOperations,
                                                          DeleteAttachmentsParam, SuccessResponse)
    from zcrmsdk.src.com.zoho.crm.api.dc import DataCenter
    from zcrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zcrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
    from zcrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

    url, _, tmp = live
    (tmp / "v21").mkdir()
    Initializer.initialize(
        user=UserSignature("patricia.boyle@zylker.example"),
        environment=DataCenter.Environment(url, f"{url}/oauth/v2/token", url, "mockzoho"),
        token=OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="1000.mock.refresh.full"),
        store=FileStore(file_path=str(tmp / "v21/tokens.csv")), sdk_config=SDKConfig(),
        resource_path=str(tmp / "v21"),
        logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=str(tmp / "v21/sdk.log")))
    ops = AttachmentsOperations("Contacts", 2883756000000270001)
    [ok] = ops.delete_attachment(2883756000000270011).get_object().get_data()
    assert isinstance(ok, SuccessResponse) and ok.get_details() == {"id": 2883756000000270011}
    error = ops.delete_attachment(2883756000000270011).get_object()
    assert isinstance(error, APIException) and error.get_code().get_value() == "INVALID_DATA"
    params = ParameterMap()
    params.add(DeleteAttachmentsParam.ids, 2883756000000270011)
    [failed] = ops.delete_attachments(params).get_object().get_data()
    assert (failed.get_code().get_value(), message(failed)) == ("INVALID_DATA", "record not deleted")
    # COQL through the same SDK: query.QueryOperations posts to /crm/v2.1/coql and reads rows as Records.
    from zcrmsdk.src.com.zoho.crm.api import query
    body = query.BodyWrapper()
    body.set_select_query("select Last_Name, Account_Name from Contacts where Account_Name is not null "
                          "order by Last_Name limit 2")
    answer = query.QueryOperations().get_records(body)
    assert answer.get_status_code() == 200
    rows = answer.get_object().get_data()
    assert len(rows) == 2 and answer.get_object().get_info().get_count() == 2
    assert all(isinstance(r.get_id(), int) and set(r.get_key_value("Account_Name")) == {"id"} for r in rows)
    body.set_select_query("select Last_Name from Contacts")
    refused = query.QueryOperations().get_records(body).get_object()
    assert (refused.get_code().get_value(), refused.get_details()) == ("SYNTAX_ERROR", {"clause": "where"})


# -- CRM v2: zcrmsdk 2.x, Zoho's legacy SDK --------------------------------------------------------

LEGACY_LEAD = 2883756000000261103


@pytest.fixture(scope="module")
def legacy(live: tuple[str, Flask, Path]) -> Any:
    """The legacy SDK's record class, its OAuth set up against the mock (file persistence, not MySQL)."""
    from zcrmsdk.OAuthClient import ZohoOAuth
    from zcrmsdk.Operations import ZCRMRecord
    from zcrmsdk.RestClient import ZCRMRestClient

    url, _, tmp = live
    (tmp / "legacy").mkdir()
    email = "patricia.boyle@zylker.example"
    # The SDK keeps this configuration in class attributes: one initialisation per process.
    ZCRMRestClient.initialize({
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": "http://127.0.0.1/callback",
        "currentUserEmail": email, "accounts_url": url, "apiBaseUrl": url, "apiVersion": "v2",
        "token_persistence_path": str(tmp / "legacy"), "applicationLogFilePath": str(tmp / "legacy")})
    ZohoOAuth.get_client_instance().generate_access_token_from_refresh_token("1000.mock.refresh.full", email)
    return ZCRMRecord


def test_legacy_sdk_link_and_file_attachments(legacy: Any, tmp_path: Path) -> None:
    from zcrmsdk.CLException import ZCRMException
    record = legacy.get_instance("Leads", LEGACY_LEAD)
    link = record.upload_link_as_attachment("https://www.zohocorp.com/crm")  # sends an empty `file` part too
    assert (link.status_code, link.code, link.message) == (200, "SUCCESS", "attachment uploaded successfully")
    payload = tmp_path / "minutes.txt"
    payload.write_bytes(b"board minutes \x00\xff\n" * 50)
    file = record.upload_attachment(str(payload))
    assert (file.status_code, file.code, file.message) == (200, "SUCCESS", "attachment uploaded successfully")

    listing = record.get_attachments(1, 200)
    by_id = {a.id: a for a in listing.data}
    assert set(by_id) == {link.data.id, file.data.id} and listing.info.count == 2
    assert (by_id[link.data.id].file_name, by_id[link.data.id].attachment_type, by_id[link.data.id].size) == (
        "https://www.zohocorp.com/crm", "Link URL", "0")
    assert (by_id[file.data.id].file_name, by_id[file.data.id].attachment_type, by_id[file.data.id].size) == (
        "minutes.txt", "File", "850")
    assert by_id[file.data.id].parent_id == str(LEGACY_LEAD) and by_id[file.data.id].owner.name == "Patricia Boyle"

    download = record.download_attachment(file.data.id)
    assert (download.status_code, download.file_name) == (200, "minutes.txt")
    assert download.get_response_stream().content == payload.read_bytes()
    with pytest.raises(ZCRMException) as linked:
        record.download_attachment(link.data.id)
    assert (linked.value.status_code, linked.value.error_code) == (400, "INVALID_DATA")

    for attachment_id in (link.data.id, file.data.id):
        deleted = record.delete_attachment(attachment_id)
        assert (deleted.code, deleted.details) == ("SUCCESS", {"id": attachment_id})
    with pytest.raises(ZCRMException) as empty:
        record.get_attachments(1, 200)
    assert (empty.value.status_code, empty.value.error_code) == (204, "No Content")


def test_legacy_sdk_records(legacy: Any) -> None:
    """The legacy SDK's record calls unchanged: it sends back every value it read (read-only ones included) on
    update, asks for `page=0`, and reads a 400 as a top-level error (so a refused record is a 202 on v2)."""
    from zcrmsdk.CLException import ZCRMException
    from zcrmsdk.Operations import ZCRMModule

    record = legacy.get_instance("Leads")
    record.set_field_value("Last_Name", "Legacy")
    record.set_field_value("Email", "legacy.sdk@zylker.example")
    created = record.create()
    assert (created.status_code, created.code, created.message) == (201, "SUCCESS", "record added")
    leads = ZCRMModule.get_instance("Leads")
    got = leads.get_record(created.data.entity_id).data
    assert (got.get_field_value("Full_Name"), got.owner.name) == ("Legacy", "Patricia Boyle")
    got.set_field_value("Company", "Legacy Co")
    updated = got.update()
    assert (updated.status_code, updated.code, updated.message) == (200, "SUCCESS", "record updated")
    listing = leads.get_records()
    assert listing.status_code == 200 and created.data.entity_id in {r.entity_id for r in listing.data}
    assert [r.get_field_value("Company") for r in leads.search_records_by_email("legacy.sdk@zylker.example").data] == [
        "Legacy Co"]
    assert len(leads.search_records_by_criteria("(Last_Name:equals:Legacy)").data) == 1
    got.set_field_value("Full_Name", "Changed")  # a read-only field changed is refused, record by record
    with pytest.raises(ZCRMException) as refused:
        got.update()
    assert (refused.value.status_code, refused.value.error_code) == (202, "INVALID_DATA")
    assert got.delete().code == "SUCCESS"
    with pytest.raises(ZCRMException) as gone:
        leads.get_record(created.data.entity_id)
    assert gone.value.status_code == 204  # v2 answers a record that is not there with no content
