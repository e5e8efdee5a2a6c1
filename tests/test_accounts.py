"""The accounts server: grants, token answers, errors as Zoho gives them, revocation, expiry on the server clock."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from conftest import auth
from mockzoho.app import create_app
from servers import serve_in_thread

CLIENT = {"client_id": "1000.MOCKZOHOCLIENT", "client_secret": "mockzoho-secret"}
REFRESH = {**CLIENT, "grant_type": "refresh_token", "refresh_token": "1000.mock.refresh.full"}
TOKEN_SHAPE = re.compile(r"^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$")
SEED_URL = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"


def token(client: FlaskClient, params: dict, how: str = "form", **kwargs: object):
    if how == "query":
        return client.post("/oauth/v2/token", query_string=params, **kwargs)
    if how == "multipart":
        return client.post("/oauth/v2/token", data=params, content_type="multipart/form-data", **kwargs)
    return client.post("/oauth/v2/token", data=params, **kwargs)


def authorize_location(client: FlaskClient, **params: str) -> str:
    """Where the authorize page redirects the browser to."""
    query = {"client_id": "1000.MOCKZOHOCLIENT", "response_type": "code", "scope": "ZohoCRM.modules.ALL",
             "redirect_uri": "http://127.0.0.1:9999/callback", **params}
    response = client.get("/oauth/v2/auth", query_string=query)
    assert response.status_code == 302 and response.data == b""
    return response.headers["Location"]


def authorize(client: FlaskClient, **params: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(authorize_location(client, **params)).query)


@pytest.mark.parametrize("how", ["form", "query", "multipart"])
def test_refresh_grant(client: FlaskClient, how: str) -> None:
    response = token(client, REFRESH, how)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json;charset=UTF-8")
    body = response.json
    assert list(body) == ["access_token", "scope", "api_domain", "token_type", "expires_in"]
    assert TOKEN_SHAPE.match(body["access_token"])
    assert (body["api_domain"], body["token_type"], body["expires_in"]) == ("http://localhost", "Bearer", 3600)
    assert "expires_in_sec" not in body and " " in body["scope"] and "," not in body["scope"]
    assert client.delete(SEED_URL, headers=auth(body["access_token"])).status_code == 200


def test_api_domain_is_this_server_as_reached_or_configured(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "a.db"}).test_client()
    assert token(client, REFRESH, base_url="http://127.0.0.1:5123").json["api_domain"] == "http://127.0.0.1:5123"
    public = create_app({"state": tmp_path / "b.db", "public_url": "https://mock.example/"}).test_client()
    assert token(public, REFRESH).json["api_domain"] == "https://mock.example"


def test_api_domain_is_never_the_zoho_host_a_request_names(app: Flask) -> None:
    with serve_in_thread(app) as url:
        answer = requests.post(f"{url}/oauth/v2/token", data=REFRESH, headers={"Host": "accounts.zoho.com"}).json()
        assert answer["api_domain"] == url


def test_authorization_code_grant_offline(client: FlaskClient) -> None:
    reply = authorize(client, access_type="offline", state="s1")
    assert reply["location"] == ["us"] and reply["accounts-server"] == ["http://localhost"]
    assert reply["state"] == ["s1"]
    params = {**CLIENT, "grant_type": "authorization_code", "code": reply["code"][0],
              "redirect_uri": "http://127.0.0.1:9999/callback"}
    body = token(client, params).json
    assert list(body) == ["access_token", "refresh_token", "scope", "api_domain", "token_type", "expires_in"]
    assert body["scope"] == "ZohoCRM.modules.ALL"
    assert token(client, params).json == {"error": "invalid_code"}  # a grant code works once
    refreshed = token(client, {**CLIENT, "grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert TOKEN_SHAPE.match(refreshed.json["access_token"])


def test_online_access_gives_no_refresh_token(client: FlaskClient) -> None:
    code = authorize(client)["code"][0]
    body = token(client, {**CLIENT, "grant_type": "authorization_code", "code": code}).json
    assert "refresh_token" not in body and "access_token" in body


def test_grant_codes_expire_on_the_server_clock(tmp_path: Path) -> None:
    app = create_app({"state": tmp_path / "s.db", "clock": "2030-01-01T00:00:00Z"})
    client = app.test_client()
    code = authorize(client)["code"][0]
    app.extensions["mockzoho"].store.connection().execute("UPDATE counters SET frozen = frozen + 121")
    assert token(client, {**CLIENT, "grant_type": "authorization_code", "code": code}).json == {
        "error": "invalid_code"}


def test_access_tokens_expire_on_the_server_clock(tmp_path: Path) -> None:
    app = create_app({"state": tmp_path / "s.db", "clock": "2030-01-01T00:00:00Z", "token_lifetime": 60})
    client = app.test_client()
    body = token(client, REFRESH).json
    assert body["expires_in"] == 60
    clock = app.extensions["mockzoho"].store.connection()
    clock.execute("UPDATE counters SET frozen = frozen + 59")
    assert client.delete(SEED_URL, headers=auth(body["access_token"])).status_code == 200
    clock.execute("UPDATE counters SET frozen = frozen + 1")
    expired = client.delete(SEED_URL, headers=auth(body["access_token"]))
    assert (expired.status_code, expired.json["code"]) == (401, "INVALID_TOKEN")


def test_client_credentials(client: FlaskClient) -> None:
    params = {**CLIENT, "grant_type": "client_credentials", "scope": "ZohoCRM.modules.ALL,ZohoCRM.org.READ",
              "soid": "ZohoCRM.zylker-us"}
    body = token(client, params).json
    assert body["scope"] == "ZohoCRM.modules.ALL ZohoCRM.org.READ" and "refresh_token" not in body
    assert client.get("/crm/v8/org", headers=auth(body["access_token"])).json["org"][0]["domain_name"] == "zylker-us"
    assert token(client, {**params, "soid": "ZohoCRM.zylker-eu"}).json == {"error": "invalid_request"}
    assert token(client, {**params, "scope": ""}).json == {"error": "invalid_scope"}


@pytest.mark.parametrize("change,error", [
    ({"client_id": "1000.NOPE"}, "invalid_client"),
    ({"client_id": None}, "invalid_client"),
    ({"client_secret": "wrong"}, "invalid_client_secret"),
    ({"client_secret": None}, "invalid_client_secret"),
    ({"refresh_token": "1000.mock.refresh.unknown"}, "invalid_code"),
    ({"refresh_token": None}, "invalid_code"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": None}, "unsupported_grant_type"),
])
def test_token_errors_are_http_200(client: FlaskClient, change: dict, error: str) -> None:
    params = {k: v for k, v in {**REFRESH, **change}.items() if v is not None}
    response = token(client, params)
    assert (response.status_code, response.json) == (200, {"error": error})


def test_duplicated_parameters(client: FlaskClient) -> None:
    response = client.post("/oauth/v2/token?grant_type=refresh_token", data={**REFRESH, "grant_type": "password"})
    assert response.json == {"error": "invalid_request"}
    same = client.post("/oauth/v2/token?grant_type=refresh_token", data=REFRESH)
    assert "access_token" in same.json


def test_wrong_data_centre_host(client: FlaskClient) -> None:
    for host in ("accounts.zoho.eu", "accounts.zohocloud.ca", "accounts.zoho.com.au"):
        assert token(client, REFRESH, headers={"Host": host}).json == {"error": "invalid_client"}
    assert "access_token" in token(client, REFRESH, headers={"Host": "accounts.zoho.com"}).json


def test_tokens_work_on_their_data_centre_only(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
clients:
  - {id: eu-client, secret: s, dc: eu, redirect_uris: ["http://localhost/*"]}
orgs:
  - id: eu-org
    dc: eu
    users: [{id: "1", name: A, email: a@x.example}]
    refresh_tokens: [{token: eu-refresh, client: eu-client, user: "1", scopes: ZohoCRM.modules.ALL}]
    crm: {records: [{module: Leads, id: "7", attachments: [{id: "8", file_name: a.txt, content: x}]}]}
""")
    client = create_app({"state": tmp_path / "s.db", "fixtures": tmp_path}).test_client()
    params = {"grant_type": "refresh_token", "client_id": "eu-client", "client_secret": "s",
              "refresh_token": "eu-refresh"}
    assert token(client, params).json == {"error": "invalid_client"}  # this server's default host is US
    access = token(client, params, headers={"Host": "accounts.zoho.eu"}).json["access_token"]
    url = "/crm/v8/Leads/7/Attachments/8"
    assert client.delete(url, headers=auth(access)).json["code"] == "INVALID_TOKEN"
    assert client.delete(url, headers={**auth(access), "Host": "www.zohoapis.eu"}).status_code == 200


def test_revoking_a_refresh_token_kills_its_access_tokens(client: FlaskClient) -> None:
    first = token(client, REFRESH).json["access_token"]
    other = token(client, {**REFRESH, "refresh_token": "1000.mock.refresh.no-attachments-scope"}).json["access_token"]
    response = client.post("/oauth/v2/token/revoke", query_string={"token": "1000.mock.refresh.full"})
    assert (response.status_code, response.json) == (200, {"status": "success"})
    assert client.delete(SEED_URL, headers=auth(first)).json["code"] == "INVALID_TOKEN"
    assert token(client, REFRESH).json == {"error": "invalid_code"}
    assert client.delete(SEED_URL, headers=auth(other)).json["code"] == "OAUTH_SCOPE_MISMATCH"  # still valid


def test_revoking_an_access_token(client: FlaskClient) -> None:
    access = token(client, REFRESH).json["access_token"]
    assert client.post("/oauth/v2/token/revoke", data={"token": access}).json == {"status": "success"}
    assert client.delete(SEED_URL, headers=auth(access)).json["code"] == "INVALID_TOKEN"
    for bad in ({"token": "1000.unknown"}, {}):
        response = client.post("/oauth/v2/token/revoke", data=bad)
        assert (response.status_code, response.json) == (400, {"error": "invalid_token"})


@pytest.mark.parametrize("query,status,error", [
    ({"client_id": "1000.NOPE"}, 200, "invalid_client"),
    ({"redirect_uri": "https://evil.example/cb"}, 400, "invalid_redirect_uri"),
    ({"redirect_uri": "http://127.0.0.1.evil.example/cb"}, 400, "invalid_redirect_uri"),
    # URIs that only look like loopback ones: no open redirect to another host or scheme
    ({"redirect_uri": "http://127.0.0.1:80@evil.example/x"}, 400, "invalid_redirect_uri"),
    ({"redirect_uri": "http://127.0.0.1:8080.evil.example/x"}, 400, "invalid_redirect_uri"),
    ({"redirect_uri": "javascript://127.0.0.1:1/%0aalert(1)"}, 400, "invalid_redirect_uri"),
])
def test_authorize_refusals_do_not_redirect(client: FlaskClient, query: dict, status: int, error: str) -> None:
    params = {"client_id": "1000.MOCKZOHOCLIENT", "response_type": "code", "scope": "ZohoCRM.modules.ALL",
              "redirect_uri": "http://localhost/cb", **query}
    response = client.get("/oauth/v2/auth", query_string=params)
    assert (response.status_code, response.json) == (status, {"error": error})
    assert "Location" not in response.headers


def test_authorize_errors_go_back_to_the_client(client: FlaskClient) -> None:
    assert authorize(client, response_type="token")["error"] == ["unsupported_response_type"]
    assert authorize(client, scope="")["error"] == ["invalid_scope"]


def test_redirects_to_unicode_uris_are_percent_encoded(client: FlaskClient) -> None:
    location = authorize_location(client, redirect_uri="http://localhost/rückruf", state="ü")
    assert location.startswith("http://localhost/r%C3%BCckruf?code=") and location.isascii()
    assert parse_qs(urlsplit(location).query)["state"] == ["ü"]


@pytest.mark.parametrize("kwargs,status,error", [
    ({"data": b"\xff\xfe\x00garbage", "content_type": "application/x-www-form-urlencoded"}, 200,
     "unsupported_grant_type"),
    ({"data": b"x=" + b"a" * 200_000, "content_type": "application/x-www-form-urlencoded"}, 413, "invalid_request"),
    ({"data": b"--b\r\nbroken", "content_type": "multipart/form-data; boundary=b"}, 200, "unsupported_grant_type"),
    ({"data": b'{"grant_type": "refresh_token"}', "content_type": "application/json"}, 200,
     "unsupported_grant_type"),  # a JSON body is no form: no grant type was given
], ids=["not-utf8", "huge", "broken-multipart", "json"])
def test_bad_bodies(client: FlaskClient, kwargs: dict, status: int, error: str) -> None:
    response = client.post("/oauth/v2/token", **kwargs)
    assert (response.status_code, response.json) == (status, {"error": error})
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_sdk_side_endpoints(client: FlaskClient) -> None:
    me = client.get("/crm/v8/users?type=CurrentUser", headers=auth()).json["users"]
    assert [u["email"] for u in me] == ["patricia.boyle@zylker.example"]
    everyone = client.get("/crm/v2.1/users", headers=auth()).json["users"]
    assert len(everyone) == 3
    assert client.get("/crm/v8/users?type=Wizards", headers=auth()).json["code"] == "INVALID_DATA"
    org = client.get("/crm/v8/org", headers=auth()).json["org"][0]
    assert org["zgid"].isdigit() and org["company_name"] == "Zylker (US)"
    modules = client.get("/bigin/v2/settings/modules", headers=auth()).json["modules"]
    assert {"api_name": "Pipelines", "module_name": "Pipelines", "api_supported": True}.items() <= modules[0].items()
    crm = {m["api_name"]: m for m in client.get("/crm/v8/settings/modules", headers=auth()).json["modules"]}
    assert crm["Events"]["module_name"] == "Meetings" and crm["Documents"]["api_supported"] is False
    for url in ("/crm/v8/users?type=CurrentUser", "/crm/v8/org", "/crm/v8/settings/modules"):
        assert client.get(url, headers=auth("1000.mock.read-only")).json["code"] == "OAUTH_SCOPE_MISMATCH"


def test_unknown_accounts_urls(app: Flask, client: FlaskClient) -> None:
    assert client.get("/oauth/v2/nothing").json == {"error": "invalid_request"}
    assert client.get("/oauth/v2/token").status_code == 405


def test_accounts_calls_are_faulted_and_journalled_in_the_org_of_their_refresh_token(client: FlaskClient) -> None:
    clone = client.post("/__admin/orgs", json={}).json
    refresh = clone["tokens"]["1000.mock.refresh.full"]
    grant = {**REFRESH, "refresh_token": refresh}
    client.post("/__admin/faults", json={"match": {"org": clone["id"], "product": "accounts"},
                                         "respond": {"code": "INVALID_CODE"}, "times": 1})
    assert client.post("/oauth/v2/token", data=grant).json == {"error": "invalid_code"}
    assert "access_token" in client.post("/oauth/v2/token", data=grant).json
    assert "access_token" in client.post("/oauth/v2/token", data=REFRESH).json  # the template org: no fault
    journal = client.get(f"/__admin/requests?org={clone['id']}").json["requests"]
    assert [e["code"] for e in journal] == [None, "invalid_code"]
    assert "****" in journal[0]["body_preview"] and refresh not in journal[0]["body_preview"]
