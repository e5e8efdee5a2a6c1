"""Property: whatever method, path, headers and query arrive, the answer is a JSON envelope, never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import urlencode
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings, strategies as st

from conftest import SEED_TOKEN
from mockzoho.app import create_app

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "DELETE", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "delete"]
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
PATHS = st.one_of(ROUTE_LIKE, ROUTE_LIKE, OAUTH_LIKE, COSMOS_LIKE, st.lists(SEGMENTS, max_size=7))
TOKENS = st.sampled_from([SEED_TOKEN, "1000.mock.no-permission", "1000.mock.eu", "1000.mock.expired", "x", ""])
AUTHORIZATION = st.one_of(
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
    max_size=3).map(urlencode)
RAW_QUERY = st.binary(max_size=40).map(lambda b: b.decode("latin-1"))  # as a server hands over raw bytes


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app({"state": Path(tmp_path_factory.mktemp("fuzz")) / "state.db"})


def clean_header(value: str) -> str:
    return "".join(c for c in value if c.isprintable() and ord(c) < 256)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(METHODS), segments=PATHS, headers=HEADERS,
       query=st.one_of(QUERY, RAW_QUERY), body=st.binary(max_size=64))
def test_always_a_json_envelope(fuzz_app: Flask, method: str, segments: list[str], headers: dict,
                                query: str, body: bytes) -> None:
    headers = {k: clean_header(v) for k, v in headers.items()}
    # Straight into the WSGI environ, as a server decodes a raw request line (bytes as latin-1).
    path = ("/" + "/".join(segments)).encode().decode("latin-1")
    response = fuzz_app.test_client().open(
        "/", method=method.upper(), headers=headers, data=body,
        environ_overrides={"PATH_INFO": path, "QUERY_STRING": query})
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.data
    if response.status_code == 302:  # the authorize page's redirect, with no page behind it
        assert response.data == b"" and response.headers["Location"]
        return
    assert response.headers["Content-Type"].lower() in ("application/json;charset=utf-8", "application/json")
    if method.upper() == "HEAD" or response.status_code == 204:
        assert response.data == b""
        return
    payload = json.loads(response.data)
    assert (set(payload) in ({"code", "details", "message", "status"}, {"data"}, {"data", "info"}, {"error"},
                             {"code", "message"}, {"error", "message"}, {"error", "message", "details"}) or "_rid" in payload
            or payload.get("status") in ("ok", "success") or "access_token" in payload
            or set(payload) in ({"users", "info"}, {"org"}, {"modules"})), payload
