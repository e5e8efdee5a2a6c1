"""Stubs for what the mock does not model, unmatched calls marked and listed with near misses, and the journal
of answers (what answered, status, headers, the start of the body)."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from conftest import SEED_TOKEN, auth
from mockzoho.app import create_app
from mockzoho.config import bundled_fixtures
from mockzoho.fixtures import FixtureError, load_fixtures
from mockzoho.state import ZOHO_PRODUCTS
from servers import Server, free_port, serve_command, serve_in_thread
from test_cosmos import DOC, NOW, headers as cosmos_headers, signed as cosmos_signed

CONVERT = "/crm/v8/Leads/2883756000000261075/actions/convert"
CONVERT_STUB = {
    "match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert"},
    "respond": {"status": 200, "json": {"data": [{
        "code": "SUCCESS", "status": "success", "message": "lead {{ request.segments[3] }} converted",
        "details": {"Contacts": {"name": "{{ request.json.data[0].Last_Name }}", "id": "{{ new_id() }}"},
                    "Deals": None, "Accounts": {"id": "{{ request.query.account }}"}}}]}}}


def post_json(client: FlaskClient, url: str, body: object, **kwargs: object):
    """A JSON body as a client sends it: keys in the order written (the test client's `json=` sorts them)."""
    return client.post(url, data=json.dumps(body), content_type="application/json", **kwargs)


def add_stub(client: FlaskClient, spec: dict) -> int:
    answer = post_json(client, "/__admin/stubs", spec)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def last_entry(client: FlaskClient) -> dict:
    return client.get("/__admin/requests", query_string={"limit": 1}).json["requests"][0]


# -- unmatched calls -----------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,status,code", [
    ("POST", CONVERT, 404, "INVALID_URL_PATTERN"),
    ("PATCH", "/crm/v8/Leads", 400, "INVALID_REQUEST_METHOD"),
    ("GET", "/bigin/v2/Pipelines/1/Tags/add", 404, "INVALID_URL_PATTERN"),
    ("GET", "/nowhere", 404, "INVALID_URL_PATTERN"),
])
def test_an_unmodelled_call_answers_the_real_error_but_marked(client: FlaskClient, method: str, path: str,
                                                              status: int, code: str) -> None:
    answer = client.open(path, method=method, headers=auth())
    assert (answer.status_code, answer.json["code"], answer.headers["X-Mockzoho-Unmatched"]) == (status, code, "1")
    entry = last_entry(client)
    assert (entry["path"], entry["unmatched"], entry["matched"], entry["code"]) == (path, True, None, code)


def test_a_modelled_call_is_not_marked_and_names_its_route(client: FlaskClient) -> None:
    answer = client.get("/crm/v8/Leads/2883756000000261075", headers=auth())
    assert answer.status_code == 200 and "X-Mockzoho-Unmatched" not in answer.headers
    entry = last_entry(client)
    assert (entry["matched"], entry["unmatched"]) == ("route crm.get_record", False)
    refused = client.get("/crm/v8/Leads/2883756000000261075")  # refused by the route: still the route's answer
    assert refused.status_code == 401 and "X-Mockzoho-Unmatched" not in refused.headers
    assert last_entry(client)["matched"] == "route crm.get_record"


def test_a_cosmos_path_the_catch_all_route_does_not_model_is_unmatched(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db", "clock": NOW}).test_client()
    link = "dbs/volcanodb/colls/volcano1/sprocs"
    answer = client.get(f"/{link}", headers=cosmos_headers("GET", "sprocs", "dbs/volcanodb/colls/volcano1"))
    assert (answer.status_code, answer.json["code"], answer.headers["X-Mockzoho-Unmatched"]) == (404, "NotFound", "1")
    served = client.get("/dbs/volcanodb", headers=cosmos_headers("GET", "dbs", "dbs/volcanodb"))
    assert served.status_code == 200 and "X-Mockzoho-Unmatched" not in served.headers


def test_unmatched_calls_are_listed_with_the_closest_stubs(client: FlaskClient) -> None:
    by_json = add_stub(client, {"match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert",
                                          "json": {"data": [{"overwrite": True}]}}, "respond": {"json": {}}})
    by_method = add_stub(client, {"match": {"method": "GET", "path": "/crm/v8/Leads/*/actions/convert"},
                                  "respond": {"json": {}}})
    elsewhere = add_stub(client, {"match": {"method": "GET", "path": "/crm/v8/Contacts/*"}, "respond": {"json": {}}})
    post_json(client, CONVERT, {"data": [{"overwrite": False}]}, headers=auth())
    assert client.get("/crm/v8/Leads/2883756000000261075", headers=auth()).status_code == 200  # matched: not listed
    listed = client.get("/__admin/requests/unmatched").json["requests"]
    assert [(e["method"], e["path"]) for e in listed] == [("POST", CONVERT)]
    # Fewest failures first; among equals, the newest (the one that would have answered first).
    assert [(m["stub"], m["failed"]) for m in listed[0]["near_misses"]] == [
        (by_method, ["method"]), (by_json, ["json"]), (elsewhere, ["method", "path"])]
    assert listed[0]["near_misses"][1]["match"]["json"] == {"data": [{"overwrite": True}]}


def test_the_journal_filters_unmatched_calls_and_reads_forward(client: FlaskClient) -> None:
    for path in ("/crm/v8/org", "/crm/v8/nothing/here/at/all", "/crm/v8/org"):
        client.get(path, headers=auth())
    everything = client.get("/__admin/requests").json["requests"]
    first = everything[-1]["id"]
    forward = client.get("/__admin/requests", query_string={"after": first, "order": "asc"}).json["requests"]
    assert [e["id"] for e in forward] == [first + 1, first + 2]
    flagged = client.get("/__admin/requests", query_string={"unmatched": "true"}).json["requests"]
    assert [e["path"] for e in flagged] == ["/crm/v8/nothing/here/at/all"]
    assert client.get("/__admin/requests/count", query_string={"unmatched": "false"}).json == {"count": 2}
    bad = client.get("/__admin/requests", query_string={"order": "sideways", "after": "-1"})
    assert bad.status_code == 400 and set(bad.json["details"]) == {"order", "after"}


# -- stubs answer ----------------------------------------------------------------------------------

def test_a_stub_answers_convert_with_values_from_the_request(client: FlaskClient) -> None:
    stub = add_stub(client, CONVERT_STUB)
    answer = post_json(client, f"{CONVERT}?account=42", {"data": [{"Last_Name": "Marrier"}]}, headers=auth())
    assert answer.status_code == 200 and answer.content_type == "application/json;charset=utf-8"
    body = answer.get_data(as_text=True)
    new_id = answer.json["data"][0]["details"]["Contacts"]["id"]
    assert body == ('{"data":[{"code":"SUCCESS","status":"success","message":"lead 2883756000000261075 converted",'
                    '"details":{"Contacts":{"name":"Marrier","id":"' + new_id + '"},"Deals":null,'
                    '"Accounts":{"id":"42"}}}]}')
    assert len(new_id) == 19 and new_id.isdigit()
    again = post_json(client, CONVERT, {"data": [{}]}, headers=auth()).json["data"][0]["details"]
    assert int(again["Contacts"]["id"]) > int(new_id) and again["Contacts"]["name"] == ""  # missing: empty
    entry = last_entry(client)
    assert (entry["matched"], entry["unmatched"], entry["org"], entry["status"]) == (f"stub {stub}", False,
                                                                                     "zylker-us", 200)
    assert entry["response_preview"].startswith('{"data":[{"code":"SUCCESS"')
    assert client.get("/__admin/stubs").json["stubs"][0]["hits"] == 2


@pytest.mark.parametrize("token,code", [(None, "AUTHENTICATION_FAILURE"), ("1000.mock.revoked", "INVALID_TOKEN"),
                                        ("1000.mock.expired", "INVALID_TOKEN")])
def test_a_stub_on_a_zoho_path_needs_a_valid_token(client: FlaskClient, token: str | None, code: str) -> None:
    stub = add_stub(client, CONVERT_STUB)
    answer = post_json(client, CONVERT, {"data": [{}]}, headers=auth(token) if token else {})
    assert (answer.status_code, answer.json["code"]) == (401, code)
    assert last_entry(client)["matched"] == f"stub {stub}"
    assert client.get("/__admin/stubs").json["stubs"][0]["hits"] == 0


def test_a_stub_without_auth_answers_anyone(client: FlaskClient) -> None:
    add_stub(client, {**CONVERT_STUB, "auth": False})
    assert post_json(client, CONVERT, {"data": [{}]}).status_code == 200


def test_a_stub_of_an_org_answers_that_orgs_callers_only(client: FlaskClient) -> None:
    clone = client.post("/__admin/orgs", json={"from": "zylker-us"}).json
    add_stub(client, {**CONVERT_STUB, "org": clone["id"]})
    assert post_json(client, CONVERT, {}, headers=auth()).headers["X-Mockzoho-Unmatched"] == "1"
    answer = post_json(client, CONVERT, {}, headers=auth(clone["tokens"][SEED_TOKEN]))
    assert answer.status_code == 200 and last_entry(client)["org"] == clone["id"]
    assert [s["org"] for s in client.get("/__admin/stubs", query_string={"org": clone["id"]}).json["stubs"]] == [
        clone["id"]]


def test_times_newest_first_and_overriding_a_modelled_route(client: FlaskClient) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/org"}, "respond": {"status": 503, "body": "first"}})
    add_stub(client, {"match": {"path": "/crm/v8/org"}, "respond": {"status": 202, "body": "second"}, "times": 2})
    answers = [client.get("/crm/v8/org", headers=auth()) for _ in range(3)]
    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [(202, "second"), (202, "second"),
                                                                           (503, "first")]
    assert answers[0].content_type == "text/plain;charset=utf-8"
    assert [(s["remaining"], s["hits"]) for s in client.get("/__admin/stubs").json["stubs"]] == [(None, 1), (0, 2)]
    assert client.delete("/__admin/stubs").json == {"deleted": 2}
    assert client.get("/crm/v8/org", headers=auth()).json["org"][0]["company_name"]  # the model again


def test_a_stub_matches_query_headers_and_a_json_subset(client: FlaskClient) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/Leads/actions/mass_convert", "query": {"mode": "fa*"},
                                "headers": {"x-trace": "t-?"}, "json": {"ids": ["1", "2"], "apply": {"x": 1}}},
                      "respond": {"status": 201, "json": {"ok": True}, "headers": {"X-Stubbed": "{{ org }}"}}})
    url = "/crm/v8/Leads/actions/mass_convert"
    sent = {"ids": ["1", "2"], "apply": {"x": 1, "y": 2}, "more": True}
    good = post_json(client, f"{url}?mode=fast", sent, headers={**auth(), "X-Trace": "t-1"})
    assert (good.status_code, good.json, good.headers["X-Stubbed"]) == (201, {"ok": True}, "zylker-us")
    for query, trace, body in (("mode=slow", "t-1", sent), ("mode=fast", "u-1", sent),
                               ("mode=fast", "t-1", {**sent, "ids": ["1"]}),
                               ("mode=fast", "t-1", {**sent, "apply": {"x": True}})):
        answer = post_json(client, f"{url}?{query}", body, headers={**auth(), "X-Trace": trace})
        assert answer.headers.get("X-Mockzoho-Unmatched") == "1", (query, trace, body)


def test_a_template_that_fails_is_a_plain_json_error_naming_the_stub(client: FlaskClient) -> None:
    stub = add_stub(client, {"match": {"path": "/crm/v8/fail/*"},
                             "respond": {"json": {"sum": "{{ request.json.n + 1 }}"}}})
    answer = post_json(client, "/crm/v8/fail/1", {"n": "text"}, headers=auth())
    assert answer.status_code == 500 and answer.json["error"] == "stub_template_failed"
    assert answer.json["message"].startswith(f"stub {stub}: TypeError")
    assert post_json(client, "/crm/v8/fail/1", {"n": 41}, headers=auth()).json == {"sum": "42"}


@pytest.mark.parametrize("template,problem", [
    ("{{ 9**(9**9) }}", "pow is not allowed"),
    ("{{ 'x' * 10**8 }}", "mul is not allowed"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "for is not allowed"),
    ("{{ lipsum(n=100000) }}", "the only call allowed is new_id()"),
    ("{{ 'a'.ljust(10**9) }}", "the only call allowed is new_id()"),
    ("{{ cycler.__init__.__globals__.os.system('id') }}", "the only call allowed is new_id()"),
    ("{{ request.body|center(1000000000) }}", "the filter 'center' is not allowed"),
    ("{{ request.body|replace('a', request.body) }}", "the filter 'replace' is not allowed"),
    ("{{ " + " ~ ".join(["request.body"] * 40) + " }}", "at most 64 and 8"),
    ("{% set x = 1 %}", "assign is not allowed"),
    ("{{ 10|round(-999999999) }}", "the filter 'round' takes no such arguments"),
    ("{{ request.json|tojson(100000000) }}", "the filter 'tojson' takes no such arguments"),
    ("{{ request.body|truncate(*[1]) }}", "the filter 'truncate' takes no such arguments"),
    ("{{ request.body" + "|tojson" * 9 + " }}", "at most 64 and 8"),
    ("{{ " + "9" * 5000 + " }}", "it cannot be read: ValueError"),
    ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "it cannot be read: RecursionError"),
    ("{{ 1 is nosuchtest }}", "the test 'nosuchtest' is not allowed"),
])
def test_templates_are_expressions_only_refused_fast_when_set(client: FlaskClient, template: str,
                                                              problem: str) -> None:
    answer = post_json(client, "/__admin/stubs", {"respond": {"body": template}})
    assert answer.status_code == 400 and problem in answer.json["details"]["respond"]["body"][0], answer.json


def test_a_chain_of_filters_is_capped_at_each_step(client: FlaskClient) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/x/echo/json/chain"},
                      "respond": {"body": "{{ request.body" + "|tojson" * 8 + " }}"}})
    quotes = client.post("/crm/v8/x/echo/json/chain", data=b'"' * 5000, headers=auth())
    assert (quotes.status_code, quotes.json["error"]) == (500, "stub_template_failed")
    assert "a filter gave more than 1048576 characters" in quotes.json["message"]


def test_what_templates_render_is_capped_per_answer(client: FlaskClient) -> None:
    stub = add_stub(client, {"match": {"path": "/crm/v8/x/echo/big/one"},
                             "respond": {"json": [f"{{{{ request.body }}}}{i}" for i in range(5)]}})
    big = post_json(client, "/crm/v8/x/echo/big/one", {"pad": "x" * 1_000_000}, headers=auth())
    assert (big.status_code, big.json["error"]) == (500, "stub_template_failed")
    assert "more than 4194304 characters" in big.json["message"] and str(stub) in big.json["message"]
    small = post_json(client, "/crm/v8/x/echo/big/one", {"pad": "x"}, headers=auth())
    assert small.status_code == 200 and len(small.json) == 5


@pytest.mark.parametrize("query", ["x=%0d%0aSet-Cookie:%20a=b", "x=%E2%82%AC", "x=a%00b"])
def test_a_header_rendered_from_the_request_cannot_inject_or_break_the_answer(client: FlaskClient,
                                                                              query: str) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/a/b/c/header"},
                      "respond": {"headers": {"X-A": "{{ request.query.x }}"}, "body": "ok"}})
    answer = client.get(f"/crm/v8/a/b/c/header?{query}", headers=auth())
    assert (answer.status_code, answer.json["error"]) == (500, "stub_template_failed")
    assert "Set-Cookie" not in answer.headers and "X-A" not in answer.headers
    assert client.get("/crm/v8/a/b/c/header?x=caf%C3%A9", headers=auth()).headers["X-A"] == "caf\xe9"


def test_none_renders_empty_and_head_is_answered_as_get(client: FlaskClient) -> None:
    stub = add_stub(client, {"match": {"method": "GET", "path": "/dbs/x/colls/y/sprocs"}, "auth": False,
                      "respond": {"body": "org=[{{ org }}] json=[{{ request.json }}]"}})
    assert client.get("/dbs/x/colls/y/sprocs").get_data(as_text=True) == "org=[] json=[]"
    head = client.head("/dbs/x/colls/y/sprocs")
    assert head.status_code == 200 and head.data == b""
    entry = last_entry(client)
    assert (entry["method"], entry["matched"], entry["response_size"], entry["response_preview"]) == (
        "HEAD", f"stub {stub}", 0, "")


# -- the control API's checks ------------------------------------------------------------------------

@pytest.mark.parametrize("spec,where", [
    ({"respond": {"json": {"a": "{{ unclosed"}}}, ["respond", "json"]),
    ({"respond": {"json": {}, "body": "x"}}, ["respond", "_schema"]),
    ({"respond": {"proxy": "http://127.0.0.1:1", "status": 200}}, ["respond", "_schema"]),
    ({"respond": {"proxy": "ftp://x"}}, ["respond", "proxy"]),
    ({"respond": {"headers": {"Content-Length": "1"}}}, ["respond", "headers"]),
    ({"respond": {"headers": {"X-A": "a\r\nb"}}}, ["respond", "headers"]),
    ({"match": {"method": "FETCH"}, "respond": {}}, ["match", "method"]),
    ({"match": {"path": "crm/v8"}, "respond": {}}, ["match", "path"]),
    ({"match": {"path": "*" * 9}, "respond": {}}, ["match", "path"]),
    ({"match": {"query": {"a": 1}}, "respond": {}}, ["match", "query"]),
    ({"match": {"colour": "red"}, "respond": {}}, ["match", "colour"]),
    ({"respond": {"status": 600}}, ["respond", "status"]),
    ({"respond": {"status": 100}}, ["respond", "status"]),
    ({"respond": {}, "times": 0}, ["times"]),
    ({"match": {}}, ["respond"]),
])
def test_a_bad_stub_is_400_naming_the_field(client: FlaskClient, spec: dict, where: list[str]) -> None:
    answer = post_json(client, "/__admin/stubs", spec)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_request")
    details = answer.json["details"]
    for key in where:
        details = details[key]
    assert details
    assert client.get("/__admin/stubs").json == {"stubs": []}


def test_a_stub_for_no_org_and_unknown_ids(client: FlaskClient) -> None:
    answer = post_json(client, "/__admin/stubs", {"respond": {}, "org": "nobody"})
    assert (answer.status_code, answer.json["error"]) == (400, "matches_nothing")
    assert client.delete("/__admin/stubs/7").status_code == 404
    assert client.delete(f"/__admin/stubs/{2**64}").json["error"] == "not_found"
    assert post_json(client, "/__admin/stubs", [1]).status_code == 400


# -- fixtures, resets, orgs ------------------------------------------------------------------------

STUBS_YAML = """
stubs:
  - match: {method: POST, path: /crm/v8/Leads/*/actions/convert}
    respond: {json: {data: [{code: SUCCESS, details: {id: "{{ request.segments[3] }}"}}]}}
  - match: {path: /crm/v8/Leads/*/actions/photo}
    respond: {status: 204}
    org: zylker-us
    times: 1
"""


@pytest.fixture
def stubbed_app(tmp_path: Path) -> Flask:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(bundled_fixtures(), fixtures)
    (fixtures / "stubs.yaml").write_text(STUBS_YAML)
    return create_app({"state": tmp_path / "s.db", "fixtures": fixtures})


def test_fixture_stubs_answer_and_a_reset_sets_them_again(stubbed_app: Flask) -> None:
    client = stubbed_app.test_client()
    listed = client.get("/__admin/stubs").json["stubs"]
    assert [(s["id"], s["source"], s["org"], s["times"]) for s in listed] == [(1, "fixtures", None, None),
                                                                             (2, "fixtures", "zylker-us", 1)]
    assert post_json(client, CONVERT, {}, headers=auth()).json["data"][0]["details"] == {"id": "2883756000000261075"}
    photo = "/crm/v8/Leads/2883756000000261075/actions/photo"
    assert [client.get(photo, headers=auth()).status_code for _ in range(2)] == [204, 404]
    add_stub(client, {"match": {"path": "/x"}, "respond": {}})
    client.delete("/__admin/stubs/1")
    assert client.post("/__admin/reset", json={}).status_code == 200
    again = client.get("/__admin/stubs").json["stubs"]
    assert [(s["source"], s["hits"], s["remaining"]) for s in again] == [("fixtures", 0, None), ("fixtures", 0, 1)]
    assert client.get(photo, headers=auth()).status_code == 204


def test_an_org_reset_and_clones_and_deletes_keep_stubs_to_their_org(stubbed_app: Flask) -> None:
    client = stubbed_app.test_client()
    clone = client.post("/__admin/orgs", json={"from": "zylker-us"}).json
    cloned = client.get("/__admin/stubs", query_string={"org": clone["id"]}).json["stubs"]
    assert [(s["match"]["path"], s["source"]) for s in cloned] == [("/crm/v8/Leads/*/actions/photo", "fixtures")]
    add_stub(client, {"match": {"path": "/a"}, "respond": {}, "org": "zylker-us"})
    add_stub(client, {"match": {"path": "/b"}, "respond": {}, "org": clone["id"]})
    assert client.post("/__admin/reset", json={"org": "zylker-us"}).status_code == 200
    paths = [(s["org"], s["match"]["path"]) for s in client.get("/__admin/stubs").json["stubs"]]
    assert (("zylker-us", "/a") not in paths, (clone["id"], "/b") in paths) == (True, True)
    assert client.delete(f"/__admin/orgs/{clone['id']}").status_code == 200
    assert client.get("/__admin/stubs", query_string={"org": clone["id"]}).json == {"stubs": []}


def test_fixture_stubs_are_checked_with_file_path_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((bundled_fixtures() / "demo.yaml").read_text() + """
stubs:
  - match: {path: nowhere}
    respond: {json: {a: "{% if %}"}}
  - respond: {}
    org: nobody
""")
    with pytest.raises(FixtureError) as raised:
        load_fixtures(bad, ZOHO_PRODUCTS)
    problems = "\n".join(raised.value.problems)
    assert f"{bad}: stubs.0.match.path: paths start with '/', 'nowhere' does not" in problems
    assert f"{bad}: stubs.0.respond.json: the template at a does not parse" in problems
    assert f"{bad}: stubs.1.org: no org 'nobody' is defined" in problems


# -- counted exactly once ----------------------------------------------------------------------------

def test_a_stub_for_one_call_answers_one_of_sixteen_concurrent_calls(app: Flask) -> None:
    client = app.test_client()
    add_stub(client, {"match": {"path": "/crm/v8/a/b/c/once"}, "respond": {"status": 200, "body": "yes"}, "times": 1})
    apps = [create_app({"state": app.extensions["mockzoho"].settings.state}) for _ in range(4)]
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def call(index: int) -> None:
        barrier.wait()
        statuses.append(apps[index % 4].test_client().get("/crm/v8/a/b/c/once", headers=auth()).status_code)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [404] * 15


# -- the journal keeps the answer --------------------------------------------------------------------

def test_the_journal_keeps_the_answer_with_secrets_shortened(client: FlaskClient) -> None:
    token = client.post("/oauth/v2/token", data={"grant_type": "refresh_token", "client_id": "1000.MOCKZOHOCLIENT",
                                                 "client_secret": "mockzoho-secret",
                                                 "refresh_token": "1000.mock.refresh.full"})
    issued = token.json["access_token"]
    entry = last_entry(client)
    preview = entry["response_preview"]
    assert issued not in preview and f'"access_token":"****{issued[-4:]}"' in preview
    assert entry["response_headers"]["Content-Type"] == token.headers["Content-Type"]
    assert entry["response_size"] == len(token.data) and entry["matched"] == "route accounts.token"
    download = client.get("/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017", headers=auth())
    assert download.status_code == 200
    entry = last_entry(client)
    assert (entry["response_size"], entry["response_preview"]) == (len(download.data), "")  # a file: not read


# -- over raw sockets: what werkzeug's client never sends ----------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """The README's `mockzoho serve`, with a stub that matches a JSON body and echoes what it can."""
    state, port = tmp_path_factory.mktemp("stubs") / "state.db", free_port()
    with Server(serve_command("--port", str(port), "--state", str(state), "--no-access-log"), port) as running:
        for spec in ({"match": {"path": "/crm/v8/x/echo/json/now", "json": {"a": 1}},
                      "respond": {"json": {"ok": True}}},
                     {"match": {"path": "/crm/v8/x/echo/body/now"},
                      "respond": {"body": "{{ request.body }}|{{ request.headers['x-odd'] }}|{{ request.query.q }}"}}):
            assert requests.post(f"{running.url}/__admin/stubs", json=spec).status_code == 201
        yield running


def exchange(server: Server, head: str, body: bytes = b"",
             extra: bytes = b"") -> tuple[bytes, dict[bytes, bytes], bytes]:
    """A request sent as bytes: its status line, headers (lower-case names) and body."""
    request = (f"{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode("latin-1") + ZOHO_AUTH + extra
               + b"\r\n" + body)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(request)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    head_bytes, _, rest = answer.partition(b"\r\n\r\n")
    status, *lines = head_bytes.split(b"\r\n")
    return status, {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}, rest


ZOHO_AUTH = f"Authorization: Zoho-oauthtoken {SEED_TOKEN}\r\n".encode()


@pytest.mark.parametrize("body,extra,status,answer", [
    (b'{"a":1}', b"Content-Length: 7\r\n", b"HTTP/1.1 200 OK", b'{"ok":true}'),
    (b'{"a":1', b"Content-Length: 6\r\n", b"HTTP/1.1 404 NOT FOUND", b'"code":"INVALID_URL_PATTERN"'),
    (b'\xff\xfe{"a":1}', b"Content-Length: 9\r\n", b"HTTP/1.1 404 NOT FOUND", b'"code":"INVALID_URL_PATTERN"'),
    (b'{"a":true}', b"Content-Length: 10\r\n", b"HTTP/1.1 404 NOT FOUND", b'"code":"INVALID_URL_PATTERN"'),
    (b"7\r\n{\"a\":1}\r\n0\r\n\r\n", b"Transfer-Encoding: chunked\r\n", b"HTTP/1.1 404 NOT FOUND",
     b'"code":"INVALID_URL_PATTERN"'),  # a streamed body is not read for a match: unmatched, as said
], ids=["json", "truncated", "not-utf8", "true-is-not-1", "chunked"])
def test_a_json_match_over_the_wire(served: Server, body: bytes, extra: bytes, status: bytes, answer: bytes) -> None:
    got_status, headers, got = exchange(served, "POST /crm/v8/x/echo/json/now HTTP/1.1", body,
                                        extra + b"Content-Type: application/json\r\n")
    assert got_status == status and answer in got, got
    assert headers[b"content-type"].startswith(b"application/json")


def test_undecodable_bytes_reach_templates_replaced_never_as_a_500(served: Server) -> None:
    status, _, body = exchange(served, "POST /crm/v8/x/echo/body/now?q=%FF%41 HTTP/1.1", b"\xff\xfeab",
                               b"Content-Length: 4\r\nX-Odd: caf\xe9\r\n")
    assert status == b"HTTP/1.1 200 OK"
    # A body's bytes are replaced; a header is read as latin-1 (as WSGI does); werkzeug keeps a bad escape.
    assert body == "\ufffd\ufffdab|caf\xe9|%FFA".encode(), body


@pytest.mark.parametrize("body", [b"\xff", b"{", b"[]", b'{"respond": {"json": "{{"}}', b"null"])
def test_bad_stub_bodies_over_the_wire_are_400_json(served: Server, body: bytes) -> None:
    request = (b"POST /__admin/stubs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
               b"application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with socket.create_connection(("127.0.0.1", served.port), timeout=20) as sock:
        sock.sendall(request)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] in ("invalid_json", "invalid_request")
    assert len(requests.get(f"{served.url}/__admin/stubs").json()["stubs"]) == 2


def test_faults_come_before_stubs_and_a_stub_asks_for_no_scope(client: FlaskClient) -> None:
    add_stub(client, {**CONVERT_STUB, "match": {"path": "/crm/v8/Leads/*/actions/convert"}})
    fault = client.post("/__admin/faults", json={"match": {"path": "/crm/v8/Leads/*"},
                                                 "respond": {"code": "INTERNAL_ERROR"}, "times": 1}).json["id"]
    first = post_json(client, CONVERT, {}, headers=auth())
    assert (first.status_code, first.json["code"], last_entry(client)["matched"]) == (500, "INTERNAL_ERROR",
                                                                                      f"fault {fault}")
    narrow = post_json(client, CONVERT, {}, headers=auth("1000.mock.no-attachments-scope"))
    assert narrow.status_code == 200 and narrow.json["data"][0]["code"] == "SUCCESS"


def test_a_url_a_route_takes_answers_as_the_route_and_is_not_marked(client: FlaskClient) -> None:
    answer = client.get("/crm/v8/settings/pipeline", headers=auth())  # the record read's route: no such module
    assert answer.json["code"] == "INVALID_MODULE" and "X-Mockzoho-Unmatched" not in answer.headers


def test_the_documented_stub_example_is_taken_and_answers(client: FlaskClient) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "admin-api.md").read_text()
    example = json.loads(text.split("## Stubs", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    add_stub(client, example)
    answer = post_json(client, f"{CONVERT}?trigger=workflow", {"data": [{"overwrite": True, "notify": False}]},
                       headers={**auth(), "X-Trace": "t-1"})
    assert answer.status_code == 200, answer.json
    assert answer.json["data"][0]["details"]["lead"] == "2883756000000261075"
    assert answer.headers["X-Request-Id"].isdigit()
    assert post_json(client, CONVERT, {"data": [{}]}, headers=auth()).status_code == 404  # times: 1, and no match


def test_journal_ids_are_never_given_twice_until_it_is_emptied(client: FlaskClient) -> None:
    clone = client.post("/__admin/orgs", json={"from": "zylker-us"}).json
    client.get("/crm/v8/org", headers=auth())
    for _ in range(3):
        client.get("/crm/v8/org", headers=auth(clone["tokens"][SEED_TOKEN]))
    newest = last_entry(client)["id"]
    assert client.delete(f"/__admin/orgs/{clone['id']}").status_code == 200  # its entries go with it
    client.get("/crm/v8/org", headers=auth())
    assert last_entry(client)["id"] == newest + 1
    client.delete("/__admin/requests")
    client.get("/crm/v8/org", headers=auth())
    assert last_entry(client)["id"] == 1


def test_a_journal_of_the_older_layout_is_rebuilt_with_its_entries(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    client = create_app({"state": state}).test_client()
    client.get("/crm/v8/org", headers=auth())
    old = sqlite3.connect(f"{state}.requests", isolation_level=None)
    old.executescript("""
        CREATE TABLE before AS SELECT id, time, method, path, query, headers, body_size, body_preview, status, code,
            duration_ms, org, tag, product FROM journal;
        DROP TABLE journal;
        CREATE TABLE journal(id INTEGER PRIMARY KEY, time REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
            query TEXT NOT NULL, headers TEXT NOT NULL, body_size INTEGER NOT NULL, body_preview TEXT NOT NULL,
            status INTEGER NOT NULL, code TEXT, duration_ms REAL NOT NULL, org TEXT, tag TEXT, product TEXT);
        INSERT INTO journal SELECT * FROM before; DROP TABLE before;""")
    old.close()
    client = create_app({"state": state}).test_client()
    client.get("/crm/v8/nowhere/at/all/here", headers=auth())
    entries = client.get("/__admin/requests").json["requests"]
    assert [(e["id"], e["path"], e["unmatched"], e["response_preview"][:1]) for e in entries] == [
        (2, "/crm/v8/nowhere/at/all/here", True, "{"), (1, "/crm/v8/org", False, "")]


def test_zohos_v8_sdk_converts_a_lead_through_a_stub(app: Flask, tmp_path: Path) -> None:
    """The official SDK's ConvertLeadOperations, in a process of its own (its Initializer is global)."""
    stub = add_stub(app.test_client(), {"match": {"method": "POST", "path": "/crm/v8/Leads/*/actions/convert",
                                           "json": {"data": [{"overwrite": True}]}},
                                 "respond": {"json": {"data": [{
                                     "code": "SUCCESS", "status": "success", "message": "Lead converted",
                                     "details": {"Contacts": {"name": "Kris Marrier", "id": "{{ new_id() }}"},
                                                 "Deals": None, "Accounts": {"name": "Chemel", "id": "{{ new_id() }}"}}
                                 }]}}})
    with serve_in_thread(app) as url:
        done = subprocess.run([sys.executable, str(Path(__file__).parent / "sdk_convert.py"), url, str(tmp_path)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    status, entry = done.stdout.splitlines()
    kind, code, message, ids = json.loads(entry)
    assert (status, kind, code, message, sorted(ids)) == ("200", "SuccessResponse", "SUCCESS", "Lead converted",
                                                          ["Accounts", "Contacts"])
    assert ids["Accounts"] == ids["Contacts"] + 1  # two new ids from the shared counter
    assert last_entry(app.test_client())["matched"] == f"stub {stub}"


def test_a_stub_with_no_answers_left_is_passed_over_before_its_check(client: FlaskClient) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/Leads/*/actions/foo"}, "respond": {"body": "x"}, "times": 1})
    assert client.post("/crm/v8/Leads/1/actions/foo", headers=auth()).status_code == 200
    spent = client.post("/crm/v8/Leads/1/actions/foo")  # no token: the spent stub does not ask for one
    assert (spent.status_code, spent.json["code"], spent.headers["X-Mockzoho-Unmatched"]) == (
        404, "INVALID_URL_PATTERN", "1")
    assert last_entry(client)["matched"] is None


def test_a_tests_stub_overrides_the_fixtures_even_after_an_org_reset(stubbed_app: Flask) -> None:
    client = stubbed_app.test_client()
    add_stub(client, {"match": {"path": "/crm/v8/Leads/*/actions/photo"}, "respond": {"status": 202}})
    assert client.post("/__admin/reset", json={"org": "zylker-us"}).status_code == 200  # fixtures' set again
    photo = "/crm/v8/Leads/2883756000000261075/actions/photo"
    assert client.get(photo, headers=auth()).status_code == 202


def test_a_stub_read_for_its_match_keeps_the_routes_body_cap(client: FlaskClient) -> None:
    add_stub(client, {"match": {"path": "/crm/v8/coql", "json": {"never": True}}, "respond": {}})
    padded = json.dumps({"select_query": "select Last_Name from Leads where Last_Name is not null" + " " * 400_000})
    answer = client.post("/crm/v8/coql", data=padded, content_type="application/json", headers=auth())
    assert answer.status_code == 413, answer.json


@pytest.mark.parametrize("body", [b'{"respond": {"json": {"a": NaN}}}', b'{"respond": {"json": [Infinity]}}'])
def test_numbers_json_cannot_carry_are_refused(client: FlaskClient, body: bytes) -> None:
    answer = client.post("/__admin/stubs", data=body, content_type="application/json")
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_json")
    assert client.get("/__admin/stubs").json == {"stubs": []}


def test_fixture_stubs_with_numbers_json_cannot_carry_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((bundled_fixtures() / "demo.yaml").read_text() + "stubs:\n  - respond: {json: {a: .nan}}\n")
    with pytest.raises(FixtureError) as raised:
        load_fixtures(bad, ZOHO_PRODUCTS)
    assert f"{bad}: stubs.0.respond.json: nan is not a JSON number at a" in raised.value.problems


def test_a_json_match_leaves_a_cosmos_media_upload_whole(tmp_path: Path) -> None:
    cosmos = create_app({"state": tmp_path / "s.db", "clock": NOW}).test_client()
    add_stub(cosmos, {"match": {"method": "POST", "json": {"x": 1}}, "respond": {}})
    created = cosmos_signed(cosmos, "POST", f"/{DOC}/attachments", data=b"hello media",
                            content_type="text/plain", extra={"Slug": "kept.txt"})
    assert created.status_code == 201, created.json
    assert cosmos_signed(cosmos, "GET", created.json["media"]).data == b"hello media"


def test_the_fixtures_docs_stubs_example_loads_and_answers(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "fixtures.md").read_text()
    block = text.split("<!-- the stubs example: tests/test_stubs.py loads this block -->\n```yaml\n", 1)[1]
    fixtures = tmp_path / "fixtures"
    shutil.copytree(bundled_fixtures(), fixtures)
    (fixtures / "stubs.yaml").write_text(block.split("```", 1)[0])
    client = create_app({"state": tmp_path / "s.db", "fixtures": fixtures}).test_client()
    answer = post_json(client, CONVERT, {"data": [{}]}, headers=auth())
    assert answer.json["data"][0]["details"]["lead"] == "2883756000000261075"
    assert [s["source"] for s in client.get("/__admin/stubs").json["stubs"]] == ["fixtures", "fixtures"]
