"""The contract suite: every delete route and every error, on CRM and Bigin, on every version."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import SEED_TOKEN, Target, auth


@pytest.fixture
def app(backend_app: Flask) -> Flask:
    """Every contract test runs on both databases: the answers may not tell them apart."""
    return backend_app

JSON = "application/json;charset=utf-8"


def error(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


def ok(item_id: str) -> dict:
    return {"code": "SUCCESS", "details": {"id": item_id}, "message": "record deleted", "status": "success"}


def not_deleted(item_id: str) -> dict:
    return error("INVALID_DATA", "record not deleted", {"id": item_id})


def answer(response) -> tuple[int, object]:
    """Status and parsed body, after checking the content type and the envelope's key order."""
    assert response.headers["Content-Type"] == JSON
    body = json.loads(response.data)
    if "code" in body:
        assert list(body) == ["code", "details", "message", "status"]
    return response.status_code, body


AUTH_FAILURE = (401, error("AUTHENTICATION_FAILURE", "Authentication failed"))
INVALID_TOKEN = (401, error("INVALID_TOKEN", "invalid oauth token"))
SCOPE_MISMATCH = (401, error("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL"))
UNKNOWN_MODULE = (400, error("INVALID_MODULE", "the module name given seems to be invalid", {"resource_path_index": 0}))
UNSUPPORTED_MODULE = (400, error("INVALID_MODULE", "the given module is not supported in api", {"resource_path_index": 0}))
RELATED_INVALID = (400, error("INVALID_DATA", "the related id given seems to be invalid", {"resource_path_index": 1}))
ID_INVALID = (400, error("INVALID_DATA", "the id given seems to be invalid"))
BAD_METHOD = (400, error("INVALID_REQUEST_METHOD", "The http request method type is not a valid one"))
BAD_URL = (404, error("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"))
IDS_MISSING = (400, error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param_name": "ids"}))
TOO_MANY_IDS = (400, error("LIMIT_EXCEEDED", "max records limit exceeded", {"limit": 100}))


# -- single attachment ---------------------------------------------------------------------------

def test_delete_attachment_then_again(client: FlaskClient, target: Target) -> None:
    assert answer(client.delete(target.attachment_url, headers=auth())) == (200, {"data": [ok(target.attachment)]})
    assert answer(client.delete(target.attachment_url, headers=auth())) == ID_INVALID


def test_unknown_attachment(client: FlaskClient, target: Target) -> None:
    url = target.url(target.module, target.record, "Attachments", "1234567890123456789")
    assert answer(client.delete(url, headers=auth())) == ID_INVALID


def test_attachment_of_another_record_is_not_found(client: FlaskClient, target: Target) -> None:
    url = target.url(target.module, target.lena_record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == ID_INVALID
    assert answer(client.delete(target.attachment_url, headers=auth()))[0] == 200


def test_module_names_are_case_insensitive(client: FlaskClient, target: Target) -> None:
    url = target.url(target.module.lower(), target.record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == (200, {"data": [ok(target.attachment)]})


# -- authentication and tokens -------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": f"Bearer {SEED_TOKEN}"},
    {"Authorization": "Zoho-oauthtoken"},
    {"Authorization": "Zoho-oauthtoken "},
    {"Authorization": SEED_TOKEN},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["none", "bearer", "scheme-only", "scheme-space", "bare-token", "basic"])
def test_authentication_failure(client: FlaskClient, target: Target, headers: dict) -> None:
    assert answer(client.delete(target.attachment_url, headers=headers)) == AUTH_FAILURE


def test_scheme_is_case_insensitive(client: FlaskClient, target: Target) -> None:
    headers = {"Authorization": f"zoho-OAUTHTOKEN {SEED_TOKEN}"}
    assert answer(client.delete(target.attachment_url, headers=headers))[0] == 200


@pytest.mark.parametrize("token", ["1000.unknown.token", "1000.mock.expired", "1000.mock.eu", "1000.mock.revoked"])
def test_invalid_token(client: FlaskClient, target: Target, token: str) -> None:
    assert answer(client.delete(target.attachment_url, headers=auth(token))) == INVALID_TOKEN


def test_revoked_token(app, client: FlaskClient, target: Target) -> None:
    store = app.extensions["mockzoho"].store
    store.connection().execute("UPDATE tokens SET revoked = 1 WHERE token = ?", (SEED_TOKEN,))
    assert answer(client.delete(target.attachment_url, headers=auth())) == INVALID_TOKEN


def test_data_centre_follows_the_host(client: FlaskClient, target: Target) -> None:
    eu = {"Host": "www.zohoapis.eu"}
    assert answer(client.delete(target.attachment_url, headers={**auth(), **eu})) == INVALID_TOKEN
    assert answer(client.delete(target.attachment_url, headers={**auth("1000.mock.eu"), **eu}))[0] == 200
    # The EU org's copy is gone; the US org's is untouched.
    assert answer(client.delete(target.attachment_url, headers={**auth("1000.mock.eu"), **eu})) == ID_INVALID
    us = {"Host": "www.zohoapis.com:443"}
    assert answer(client.delete(target.attachment_url, headers={**auth(), **us}))[0] == 200


@pytest.mark.parametrize("host,token,status", [
    ("www.zohoapis.com", SEED_TOKEN, 200), ("sandbox.zohoapis.com", SEED_TOKEN, 200),
    ("www.zohoapis.com.au", SEED_TOKEN, 401), ("www.zohoapis.in", SEED_TOKEN, 401),
    ("www.zohoapis.jp", SEED_TOKEN, 401), ("www.zohoapis.com.cn", SEED_TOKEN, 401),
    ("www.zohoapis.ca", SEED_TOKEN, 401), ("www.zohoapis.sa", SEED_TOKEN, 401),
    ("WWW.ZOHOAPIS.EU", "1000.mock.eu", 200), ("localhost:8000", SEED_TOKEN, 200),
])
def test_data_centre_hosts(client: FlaskClient, host: str, token: str, status: int) -> None:
    url = "/crm/v5/Leads/2883756000000261075/Attachments/2883756000000261017"
    assert client.delete(url, headers={**auth(token), "Host": host}).status_code == status


# -- modules -------------------------------------------------------------------------------------

def test_unknown_module(client: FlaskClient, target: Target) -> None:
    url = target.url("Leadz", target.record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == UNKNOWN_MODULE


@pytest.mark.parametrize("module", ["Documents", "Projects"])
def test_module_not_supported(client: FlaskClient, target: Target, module: str) -> None:
    url = target.url(module, target.record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == UNSUPPORTED_MODULE
    assert answer(client.delete(target.url(module) + "?ids=1", headers=auth())) == UNSUPPORTED_MODULE


def test_bigin_calls_have_no_attachments(client: FlaskClient) -> None:
    url = "/bigin/v2/Calls/2034020000000489124/Attachments/2034020000000711008"
    assert answer(client.delete(url, headers=auth())) == UNSUPPORTED_MODULE


# -- scopes --------------------------------------------------------------------------------------

def test_no_attachments_scope(client: FlaskClient, target: Target) -> None:
    token = auth("1000.mock.no-attachments-scope")
    assert answer(client.delete(target.attachment_url, headers=token)) == SCOPE_MISMATCH
    bulk = target.url(target.module, target.record, "Attachments") + f"?ids={target.attachment}"
    assert answer(client.delete(bulk, headers=token)) == SCOPE_MISMATCH
    # The module scope alone is enough to delete records of that module, and of no other.
    assert answer(client.delete(target.url(target.module, target.bulk_records[0]), headers=token))[0] == 200
    assert answer(client.delete(target.url(target.other_module, target.other_module_record),
                                headers=token)) == SCOPE_MISMATCH


def test_bigin_modules_all_alone(client: FlaskClient, target: Target) -> None:
    token = auth("1000.mock.bigin-modules-all")
    if target.product == "bigin":
        # Seed 004 lists only pairs: modules.ALL needs an attachments scope beside it ...
        assert answer(client.delete(target.attachment_url, headers=token)) == SCOPE_MISMATCH
        # ... but deletes records on its own.
        assert answer(client.delete(target.url(target.module, target.bulk_records[0]), headers=token))[0] == 200
    else:
        assert answer(client.delete(target.attachment_url, headers=token)) == SCOPE_MISMATCH


# -- profile and record permissions --------------------------------------------------------------

def test_no_permission(client: FlaskClient, target: Target) -> None:
    token = auth("1000.mock.no-permission")
    expected = (403, error("NO_PERMISSION", "Permission denied to delete attachment",
                           {"permissions": ["Crm_Implied_Delete_Attachments"]}))
    assert answer(client.delete(target.attachment_url, headers=token)) == expected
    # The same profile may delete records.
    assert answer(client.delete(target.url(target.module, target.bulk_records[0]), headers=token))[0] == 200


def test_authorization_failed(client: FlaskClient, target: Target) -> None:
    token = auth("1000.mock.no-privilege")
    expected = (400, error("AUTHORIZATION_FAILED", "User does not have sufficient privilege to delete attachments"))
    assert answer(client.delete(target.attachment_url, headers=token)) == expected
    own = target.url(target.module, target.lena_record, "Attachments", target.lena_attachment)
    assert answer(client.delete(own, headers=token)) == (200, {"data": [ok(target.lena_attachment)]})


def test_authorization_failed_on_records(client: FlaskClient, target: Target) -> None:
    token = auth("1000.mock.no-privilege")
    expected = (400, error("AUTHORIZATION_FAILED", "User does not have sufficient privilege to delete records"))
    assert answer(client.delete(target.url(target.module, target.record), headers=token)) == expected
    url = target.url(target.module) + f"?ids={target.record},{target.lena_record}"
    status, body = answer(client.delete(url, headers=token))
    assert body["data"] == [
        error("AUTHORIZATION_FAILED", "User does not have sufficient privilege to delete records", {"id": target.record}),
        ok(target.lena_record)]
    assert status == (207 if target.version == "v8" and target.product == "crm" else 200)


# -- the parent record ---------------------------------------------------------------------------

@pytest.mark.parametrize("record", ["1234567890123456789", "not-a-number", "0"])
def test_related_id_invalid(client: FlaskClient, target: Target, record: str) -> None:
    url = target.url(target.module, record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == RELATED_INVALID
    assert answer(client.delete(target.url(target.module, record, "Attachments") + "?ids=1",
                                headers=auth())) == RELATED_INVALID


def test_record_of_another_module_is_not_related(client: FlaskClient, target: Target) -> None:
    url = target.url(target.other_module, target.record, "Attachments", target.attachment)
    assert answer(client.delete(url, headers=auth())) == RELATED_INVALID


def test_deleted_record_makes_attachments_unreachable(client: FlaskClient, target: Target) -> None:
    assert answer(client.delete(target.url(target.module, target.record), headers=auth())) == (
        200, {"data": [ok(target.record)]})
    assert answer(client.delete(target.attachment_url, headers=auth())) == RELATED_INVALID
    assert answer(client.delete(target.url(target.module, target.record), headers=auth())) == (
        400, not_deleted(target.record))


# -- methods and URLs ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "PATCH", "OPTIONS"])
def test_invalid_request_method(client: FlaskClient, target: Target, method: str) -> None:
    record_urls = (target.url(target.module, target.record), target.url(target.module))  # PUT updates records
    for url in (target.attachment_url, target.url(target.module, target.record, "Attachments"),
                *(record_urls if method != "PUT" else ())):
        assert answer(client.open(url, method=method, headers=auth())) == BAD_METHOD


@pytest.mark.parametrize("suffix", [
    "/Leads/1/Attachments/2/extra", "/Leads/1/attachments/2", "//Leads/1", "/Leads/1/", "", "/",
    "/Leads/1/Attachments/2/", "/Leads/1/Notes/2"])
def test_invalid_url_pattern(client: FlaskClient, target: Target, suffix: str) -> None:
    assert answer(client.delete(target.url() + suffix, headers=auth())) == BAD_URL


def test_leading_double_slash_is_not_served(client: FlaskClient, target: Target) -> None:
    url = "/" + target.url(target.module, target.bulk_records[0])
    response = client.delete("/", environ_overrides={"PATH_INFO": url}, headers=auth())
    assert answer(response) == BAD_URL
    assert answer(client.delete(target.url(target.module, target.bulk_records[0]), headers=auth()))[0] == 200


@pytest.mark.parametrize("query", [b"ids=\xff", b"ids=%ff%fe", b"wf_trigger=\xc3\x28&ids=1"])
def test_query_bytes_that_are_not_utf8(client: FlaskClient, target: Target, query: bytes) -> None:
    response = client.delete("/", headers=auth(), environ_overrides={
        "PATH_INFO": target.url(target.module), "QUERY_STRING": query.decode("latin-1")})
    status, body = answer(response)  # refused outright, or an id that matches nothing
    assert status == 400 and (body.get("status") == "error" or body["data"][0]["code"] == "INVALID_DATA")


@pytest.mark.parametrize("url", ["/crm/v9/Leads/1", "/crm/v1/Leads/1", "/bigin/v3/Pipelines/1",
                                 "/crm/V5/Leads/1", "/crm", "/bigin/", "/recruit/v2/Candidates/1"])
def test_unknown_versions_and_paths(client: FlaskClient, url: str) -> None:
    assert answer(client.delete(url, headers=auth())) == BAD_URL


def test_internal_error_is_an_envelope(app, client: FlaskClient, target: Target, monkeypatch) -> None:
    def explode(token: str) -> None:
        raise RuntimeError("boom")
    monkeypatch.setattr(app.extensions["mockzoho"].store, "find_token", explode)
    assert answer(client.delete(target.attachment_url, headers=auth())) == (
        500, error("INTERNAL_ERROR", "Internal Server Error"))


# -- bulk attachment delete ----------------------------------------------------------------------

def test_bulk_delete_attachments(client: FlaskClient, target: Target) -> None:
    base = target.url(target.module, target.record, "Attachments")
    ids = [target.attachment, *target.more_attachments]
    answer(client.delete(target.attachment_url, headers=auth()))
    status, body = answer(client.delete(f"{base}?ids={','.join(ids)}", headers=auth()))
    assert body == {"data": [not_deleted(ids[0]), *(ok(i) for i in ids[1:])]}
    assert status == (207 if (target.product, target.version) == ("crm", "v8") else 200)
    assert answer(client.delete(f"{base}?ids={','.join(ids[1:])}", headers=auth())) == (
        400, {"data": [not_deleted(i) for i in ids[1:]]})


def test_bulk_delete_keeps_request_order_and_duplicates(client: FlaskClient, target: Target) -> None:
    base = target.url(target.module, target.record, "Attachments")
    ids = [target.more_attachments[1], "999", target.attachment, target.more_attachments[1]]
    status, body = answer(client.delete(f"{base}?ids={' , '.join(ids)}", headers=auth()))
    assert body == {"data": [ok(ids[0]), not_deleted("999"), ok(ids[2]), not_deleted(ids[3])]}


def test_bulk_ids_may_repeat_the_parameter(client: FlaskClient, target: Target) -> None:
    base = target.url(target.module, target.record, "Attachments")
    url = f"{base}?ids={target.attachment}&ids={target.more_attachments[0]}"
    assert answer(client.delete(url, headers=auth())) == (
        200, {"data": [ok(target.attachment), ok(target.more_attachments[0])]})


@pytest.mark.parametrize("query", ["", "?ids=", "?ids=,,", "?id=1", "?IDS=1"])
def test_bulk_ids_missing(client: FlaskClient, target: Target, query: str) -> None:
    assert answer(client.delete(target.url(target.module, target.record, "Attachments") + query,
                                headers=auth())) == IDS_MISSING
    assert answer(client.delete(target.url(target.module) + query, headers=auth())) == IDS_MISSING


def test_bulk_limit(client: FlaskClient, target: Target) -> None:
    hundred = ",".join(str(10**18 + i) for i in range(100))
    base = target.url(target.module, target.record, "Attachments")
    assert answer(client.delete(f"{base}?ids={hundred}", headers=auth()))[0] == 400  # all unknown, not a limit
    assert answer(client.delete(f"{base}?ids={hundred},1", headers=auth())) == TOO_MANY_IDS
    assert answer(client.delete(f"{target.url(target.module)}?ids={hundred},1", headers=auth())) == TOO_MANY_IDS


# -- record delete -------------------------------------------------------------------------------

def test_bulk_delete_records(client: FlaskClient, target: Target) -> None:
    ids = list(target.bulk_records)
    url = f"{target.url(target.module)}?ids={','.join(ids)}&wf_trigger=false"
    assert answer(client.delete(url, headers=auth())) == (200, {"data": [ok(i) for i in ids]})
    status, body = answer(client.delete(f"{target.url(target.module)}?ids={ids[0]},{target.record}",
                                        headers=auth()))
    assert body == {"data": [not_deleted(ids[0]), ok(target.record)]}
    assert status == (207 if (target.product, target.version) == ("crm", "v8") else 200)
    assert answer(client.delete(target.attachment_url, headers=auth())) == RELATED_INVALID


def test_record_delete_checks_the_module(client: FlaskClient, target: Target) -> None:
    url = target.url(target.other_module, target.record)
    assert answer(client.delete(url, headers=auth())) == (400, not_deleted(target.record))
    assert answer(client.delete(target.attachment_url, headers=auth()))[0] == 200


@pytest.mark.parametrize("value,status", [("true", 200), ("FALSE", 200), ("maybe", 400), ("", 400)])
def test_wf_trigger(client: FlaskClient, target: Target, value: str, status: int) -> None:
    code, body = answer(client.delete(f"{target.url(target.module, target.bulk_records[0])}?wf_trigger={value}",
                                      headers=auth()))
    assert code == status
    if status == 400:
        assert body == error("UNABLE_TO_PARSE_DATA_TYPE", "either the request body or parameters is in wrong format",
                             {"param_name": "wf_trigger"})


# -- precedence ----------------------------------------------------------------------------------

def test_precedence(client: FlaskClient, target: Target) -> None:
    """URL, method, authentication, token, module, scope, permission, parameters, record, attachment."""
    bad_module = target.url("Leadz", "1", "Attachments", "2")
    assert answer(client.put(target.url("Leadz", "x", "Attachments", "y"))) == BAD_METHOD
    assert answer(client.delete(bad_module)) == AUTH_FAILURE
    assert answer(client.delete(bad_module, headers=auth("1000.mock.expired"))) == INVALID_TOKEN
    assert answer(client.delete(bad_module, headers=auth("1000.mock.bigin-modules-all"))) == UNKNOWN_MODULE
    unknown_record = target.url(target.module, "1", "Attachments")
    assert answer(client.delete(unknown_record + "?ids=1", headers=auth("1000.mock.bigin-modules-all"))) \
        == SCOPE_MISMATCH
    assert answer(client.delete(unknown_record, headers=auth("1000.mock.no-permission")))[0] == 403
    assert answer(client.delete(unknown_record, headers=auth())) == IDS_MISSING
    assert answer(client.delete(unknown_record + "?ids=1", headers=auth("1000.mock.no-privilege"))) \
        == RELATED_INVALID
    assert answer(client.delete(target.url(target.module, target.record, "Attachments", "1"),
                                headers=auth("1000.mock.no-privilege")))[1]["code"] == "AUTHORIZATION_FAILED"
