"""Property: whatever method, path, headers and query arrive, the answer is never a 5xx and is exactly the
envelope of the API the path belongs to, its HTTP status the one its code comes with."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse
from hypothesis import HealthCheck, event, given, settings, strategies as st

from conftest import SEED_TOKEN
from mockzoho.app import create_app
from mockzoho.cosmos.errors import CATALOGUE as COSMOS_CATALOGUE
from mockzoho.zoho.errors import CATALOGUE as ZOHO_CATALOGUE

METHODS = ["GET", "GET", "GET", "POST", "PUT", "PATCH", "DELETE", "DELETE", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "delete"]
SEGMENTS = st.one_of(
    st.sampled_from(["crm", "bigin", "v1", "v2", "v2.1", "v5", "v8", "Leads", "leads", "Pipelines", "Documents",
                     "Attachments", "2883756000000261075", "2883756000000261017", "2034020000000489124",
                     "2034020000000711008", "", "..", "%2F", "%00", "__admin", "health"]),
    st.text(max_size=12),
)
KNOWN = st.sampled_from(["Leads", "leads", "Pipelines", "Contacts", "Documents", "Calls", "1",
                         "2883756000000261075", "2034020000000489124", "2883756000000261018",
                         "2034020000000711009", "2883756000000261099"])
NAMES = st.one_of(KNOWN, KNOWN, KNOWN, st.text(max_size=4))
ROUTE_LIKE = st.builds(
    lambda product, version, names, shape: [product, version, *shape(names)],
    st.sampled_from(["crm", "bigin"]), st.sampled_from(["v1", "v2", "v2", "v2.1", "v5", "v8", "v9"]),
    st.lists(NAMES, min_size=3, max_size=3),
    st.sampled_from([lambda n: n[:1], lambda n: n[:2], lambda n: [*n[:2], "Attachments"],
                     lambda n: [*n[:2], "Attachments", n[2]]]))
OAUTH_LIKE = st.builds(lambda tail: ["oauth", "v2", *tail], st.lists(
    st.sampled_from(["token", "revoke", "auth", "x", ""]), max_size=2))
COSMOS_LIKE = st.builds(lambda tail: ["dbs", *tail], st.lists(st.one_of(
    st.sampled_from(["volcanodb", "colls", "volcano1", "docs", "c3bb1fef-fcb1-56e3-0389-f88583c3ce0d",
                     "attachments", "image_id_2", "hUwBcw==", ""]), st.text(max_size=6)), max_size=8))
SERVED = st.sampled_from([  # routes the seed serves, so that successes are checked as well as errors
    ["crm", "v8", "Leads", "2883756000000261075", "Attachments"], ["crm", "v2", "Leads", "2883756000000261075",
                                                                   "Attachments", "2883756000000261018"],
    ["crm", "v5", "Leads", "2883756000000261101"], ["crm", "v8", "Leads"], ["crm", "v8", "org"],
    ["crm", "v8", "users"], ["crm", "v2.1", "settings", "modules"], ["bigin", "v2", "Pipelines",
                                                                     "2034020000000489124", "Attachments"],
    ["bigin", "v1", "Pipelines", "2034020000000489124", "Attachments", "2034020000000711009"],
    ["oauth", "v2", "token"], ["oauth", "v2", "token"], ["oauth", "v2", "auth"], ["oauth", "v2", "token", "revoke"]])
ADMIN_LIKE = st.builds(lambda tail: ["__admin", *tail], st.lists(st.sampled_from(
    ["health", "reset", "faults", "orgs", "zylker-us", "requests", "count", "clock", "advance", "tokens", "limits",
     "fixtures", "1", "x", ""]), max_size=2))
PATHS = st.one_of(ROUTE_LIKE, ROUTE_LIKE, SERVED, SERVED, OAUTH_LIKE, COSMOS_LIKE, ADMIN_LIKE, st.lists(SEGMENTS, max_size=7))
TOKENS = st.sampled_from([SEED_TOKEN, "1000.mock.no-permission", "1000.mock.eu", "1000.mock.expired", "x", ""])
AUTHORIZATION = st.one_of(
    st.just(f"Zoho-oauthtoken {SEED_TOKEN}"),
    st.builds(lambda t: f"Zoho-oauthtoken {t}", TOKENS),
    st.builds(lambda t: f"Zoho-oauthtoken {t}", TOKENS),
    st.builds(lambda s, t: f"{s} {t}", st.sampled_from(["Bearer", "Basic", "zoho-oauthtoken", ""]), TOKENS),
    st.text(max_size=40),
)
HEADERS = st.fixed_dictionaries({"Authorization": AUTHORIZATION}, optional={
    "Host": st.sampled_from(["www.zohoapis.com", "www.zohoapis.eu", "zohoapis.jp:443", "[::1]:80", "bad host", ""]),
    "Content-Type": st.sampled_from(["application/json", "multipart/form-data", "text/plain; charset=\xff"]),
    "X-Anything": st.text(max_size=20),
})
QUERY = st.dictionaries(
    st.sampled_from(["ids", "wf_trigger", "fields", "page", "x", "", "grant_type", "client_id", "client_secret",
                     "refresh_token", "code", "token", "redirect_uri", "scope", "response_type"]),
    st.one_of(st.text(max_size=30), st.sampled_from(["true", "2883756000000261019,1,,2883756000000261020",
                                                     "refresh_token", "authorization_code", "1000.MOCKZOHOCLIENT",
                                                     "mockzoho-secret", "1000.mock.refresh.full", "http://localhost",
                                                     "code",
                                                     "2034020000000711010", ",".join(["1"] * 101)])),
    max_size=3).map(urlencode) | st.sampled_from([  # whole queries a route takes
    "fields=id,File_Name", "ids=2883756000000261102,2883756000000261103",
    urlencode({"grant_type": "refresh_token", "client_id": "1000.MOCKZOHOCLIENT", "client_secret": "mockzoho-secret",
               "refresh_token": "1000.mock.refresh.full"}),
    urlencode({"client_id": "1000.MOCKZOHOCLIENT", "response_type": "code", "scope": "ZohoCRM.modules.ALL",
               "redirect_uri": "http://localhost/cb", "state": "s"})])
RAW_QUERY = st.binary(max_size=40).map(lambda b: b.decode("latin-1"))  # as a server hands over raw bytes


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app({"state": Path(tmp_path_factory.mktemp("fuzz")) / "state.db"})


def clean_header(value: str) -> str:
    return "".join(c for c in value if c.isprintable() and ord(c) < 256)


# Each API's error codes and the statuses they come with: the HTTP status must be the one of the code.
OAUTH_STATUSES = {"invalid_redirect_uri": {400}, "invalid_token": {400},
                  "invalid_request": {200, 400, 404, 405, 411, 413, 414, 415, 431}}  # any other error: 200
ADMIN_STATUSES = {"not_found": {404}, "unauthorized": {401}, "control_api_closed": {403}, "conflict": {409},
                  "invalid_json": {400}, "invalid_fixtures": {400}, "matches_nothing": {400},
                  "invalid_request": {400, 405, 411, 413, 414, 415, 431}}
ZOHO_STATUS_OVERRIDES = {("INVALID_DATA", 415)}  # an upload of a type Zoho refuses
ACTIVITY = re.compile(r"\r\nActivityId: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DOWNLOAD = re.compile(r"^/(crm|bigin)/v[^/]+/[^/]+/[^/]+/Attachments/[^/]+$")


def family(path: str) -> str:
    """The API a path belongs to, as a client of it expects its answers: werkzeug's path (leading slashes
    collapsed) under /__admin is the control API's, /oauth/ the accounts server's, / /dbs /media Cosmos DB's,
    anything else (/crm/, /bigin/ and unknown paths alike) Zoho's."""
    path = "/" + path.lstrip("/")
    if path.startswith("/__admin"):
        return "admin"
    if path.startswith("/oauth/"):
        return "accounts"
    if path == "/" or path.startswith(("/dbs", "/media")):
        return "cosmos"
    return "zoho"


def is_download(api: str, method: str, path: str, response: TestResponse) -> bool:
    """Whether the answer is a file: an attachment's (Zoho's, as an attachment) or its media (Cosmos DB's)."""
    if response.status_code != 200 or method not in ("GET", "HEAD"):
        return False
    if api == "zoho":
        return DOWNLOAD.match(path) is not None and response.headers.get("Content-Disposition", "").startswith(
            "attachment;")
    return api == "cosmos" and ("/" + path.lstrip("/")).startswith("/media/")


def is_status_entry(entry: object) -> bool:
    keys = ["code", "details", "message", "status"]
    return (isinstance(entry, dict) and list(entry) in (keys, ["code", "duplicate_field", "action", *keys[1:]])
            and isinstance(entry["code"], str) and isinstance(entry["details"], dict)
            and isinstance(entry["message"], str) and entry["status"] in ("success", "error"))


def check_zoho(method: str, path: str, status: int, payload: dict) -> None:
    metadata = ({"org"}, {"modules"}, {"fields"}, {"layouts"}, {"related_lists"})
    if "data" not in payload and set(payload) != {"users", "info"} and set(payload) not in metadata:
        assert list(payload) == ["code", "details", "message", "status"], payload
        assert payload["status"] == "error" and isinstance(payload["details"], dict), payload
        assert isinstance(payload["message"], str) and payload["code"] in ZOHO_CATALOGUE, payload
        assert (status == ZOHO_CATALOGUE[payload["code"]][0]
                or (payload["code"], status) in ZOHO_STATUS_OVERRIDES), (status, payload)
        return
    if "data" in payload:
        assert list(payload) in (["data"], ["data", "info"]), payload
        assert isinstance(payload["data"], list) and payload["data"], payload
        if "info" in payload or (method, status) == ("GET", 200):  # a listing, or a record
            assert (method, status) == ("GET", 200) and isinstance(payload.get("info", {}), dict), (status, payload)
            assert all(isinstance(a, dict) and "id" in a for a in payload["data"]), payload
            return
        assert all(is_status_entry(entry) for entry in payload["data"]), payload
        outcomes = {entry["status"] for entry in payload["data"]}
        expected = {frozenset({"success"}): {200, 201, 202}, frozenset({"error"}): {400}}
        assert status in expected.get(frozenset(outcomes), {200, 207}), (status, payload)  # mixed: 207 or 200
        return
    # the SDK's side calls: who is calling, the org, the modules
    assert (method, status) == ("GET", 200), (status, payload)
    assert path.rstrip("/").rsplit("/", 2)[-1] in ("users", "org", "modules"), (path, payload)


def check_accounts(path: str, status: int, payload: dict) -> None:
    if "error" in payload:
        assert list(payload) == ["error"] and isinstance(payload["error"], str), payload
        assert status in OAUTH_STATUSES.get(payload["error"], {200}), (status, payload)
    elif "access_token" in payload:
        assert (path.rstrip("/"), status) == ("/oauth/v2/token", 200), (status, payload)
    else:
        assert (path.rstrip("/"), status, payload) == ("/oauth/v2/token/revoke", 200, {"status": "success"})


def check_cosmos(status: int, payload: dict) -> None:
    if "code" in payload:
        assert list(payload) == ["code", "message"] and payload["code"] in COSMOS_CATALOGUE, payload
        assert status == COSMOS_CATALOGUE[payload["code"]][0], (status, payload)
        assert ACTIVITY.search(payload["message"]), payload
    else:
        assert status in (200, 201) and "_rid" in payload, (status, payload)


def check_admin(status: int, payload: dict) -> None:
    if status < 400:
        return  # the control API's answers are its own, one per route (tests/test_admin.py)
    assert list(payload) in (["error", "message"], ["error", "message", "details"]), payload
    assert isinstance(payload["message"], str), payload
    assert status in ADMIN_STATUSES[payload["error"]], (status, payload)


CONTENT_TYPES = {"zoho": "application/json;charset=utf-8", "accounts": "application/json;charset=UTF-8",
                 "cosmos": "application/json", "admin": "application/json"}


# Derandomized, with no example database: the same examples on every run and machine.
@settings(max_examples=600, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(METHODS), segments=PATHS, headers=HEADERS,
       query=st.one_of(QUERY, RAW_QUERY), body=st.binary(max_size=64))
def test_always_the_envelope_of_the_paths_api(fuzz_app: Flask, method: str, segments: list[str], headers: dict,
                                              query: str, body: bytes) -> None:
    headers = {k: clean_header(v) for k, v in headers.items()}
    # Straight into the WSGI environ, as a server decodes a raw request line (bytes as latin-1).
    path = ("/" + "/".join(segments)).encode().decode("latin-1")
    method = method.upper()
    response = fuzz_app.test_client().open(
        "/", method=method, headers=headers, data=body,
        environ_overrides={"PATH_INFO": path, "QUERY_STRING": query})
    api = family(path)
    event(f"{api} {response.status_code}")
    assert response.status_code < 500, response.data
    if response.status_code == 302:  # the authorize page's redirect (HEAD: the same, as HTTP has it), no page
        assert (api, "/" + path.lstrip("/")) == ("accounts", "/oauth/v2/auth") and method in ("GET", "HEAD")
        assert response.data == b"" and response.headers["Location"]
        return
    if is_download(api, method, path, response):
        return  # the file itself
    content_type = CONTENT_TYPES[api]
    if api == "admin" and response.status_code < 400:
        content_type = CONTENT_TYPES["zoho"]  # the control API's answers are written as Zoho's are; its errors not
    assert response.headers["Content-Type"] == content_type, (api, response.headers)
    if method == "HEAD" or response.status_code == 204:
        assert response.data == b""
        return
    payload = json.loads(response.data)
    assert isinstance(payload, dict), payload
    if api == "zoho":
        check_zoho(method, path, response.status_code, payload)
    elif api == "accounts":
        check_accounts(path, response.status_code, payload)
    elif api == "cosmos":
        check_cosmos(response.status_code, payload)
    else:
        check_admin(response.status_code, payload)
