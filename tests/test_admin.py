"""The control API: protection, reset, fixtures, isolated orgs, tokens, clock, journal, faults, rate limits."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conftest import SEED_TOKEN, auth
from mockzoho.app import create_app
from mockzoho.config import bundled_fixtures
from mockzoho.store import StateError
from mockzoho.store.journal import TRIM_EVERY
from servers import serve_in_thread

SEED_URL = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"
BULK_LEAD = "/crm/v8/Leads/2883756000000261101"


def delete_seed(client: FlaskClient, token: str = SEED_TOKEN, **headers: str):
    return client.delete(SEED_URL, headers={**auth(token), **headers})


# -- protection ----------------------------------------------------------------------------------

def test_admin_token(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db", "admin_token": "s3cret"}).test_client()
    assert client.get("/__admin/health").json["status"] == "ok"
    for headers in ({}, {"Authorization": "Bearer wrong"}, auth(), {"Authorization": "Basic czNjcmV0"}):
        response = client.post("/__admin/reset", json={}, headers=headers)
        assert (response.status_code, response.json["error"]) == (401, "unauthorized")
    assert client.post("/__admin/reset", json={}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert delete_seed(client, "s3cret").json["code"] == "INVALID_TOKEN"  # never a Zoho token


def test_an_admin_token_that_is_also_a_zoho_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="admin token is also a Zoho access token"):
        create_app({"state": tmp_path / "s.db", "admin_token": SEED_TOKEN})


def test_health(client: FlaskClient) -> None:
    health = client.get("/__admin/health").json
    assert health["status"] == "ok" and len(health["fixture_digest"]) == 64
    assert health["state"].endswith("state.db") or health["state"].startswith("postgresql://")  # --backend


# -- reset ---------------------------------------------------------------------------------------

def test_reset_everything(client: FlaskClient) -> None:
    assert delete_seed(client).status_code == 200
    clone = client.post("/__admin/orgs", json={}).json["id"]
    client.post("/__admin/faults", json={"respond": {"code": "INTERNAL_ERROR"}, "match": {"path": "/bigin/*"}})
    answer = client.post("/__admin/reset", json={}).json
    assert answer["reset"] == "all" and answer["duration_ms"] >= 0
    assert delete_seed(client).status_code == 200
    assert clone not in {o["id"] for o in client.get("/__admin/orgs").json["orgs"]}
    assert client.get("/__admin/faults").json["faults"] == []
    assert client.get("/__admin/requests/count").json["count"] == 1  # only the delete after the reset


def test_reset_one_org(client: FlaskClient) -> None:
    clone = client.post("/__admin/orgs", json={}).json
    token = clone["tokens"][SEED_TOKEN]
    assert delete_seed(client).status_code == 200
    assert delete_seed(client, token).status_code == 200
    assert client.post("/__admin/reset", json={"org": clone["id"]}).status_code == 200
    assert delete_seed(client, token).status_code == 200  # the clone is back to its template
    assert delete_seed(client).status_code == 400  # the template org was not reset
    assert client.post("/__admin/reset", json={"org": "nope"}).status_code == 404


def test_reset_forgets_uploads_and_issued_tokens(client: FlaskClient, app: Flask) -> None:
    import io
    upload = client.post("/crm/v8/Leads/2883756000000261075/Attachments", headers=auth(),
                         data={"file": (io.BytesIO(b"only until the reset"), "tmp.txt")})
    new_id = upload.json["data"][0]["details"]["id"]
    minted = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": ["ZohoCRM.modules.ALL"]}).json["access_token"]
    client.post("/__admin/reset", json={})
    url = f"/crm/v8/Leads/2883756000000261075/Attachments/{new_id}"
    assert client.get(url, headers=auth()).status_code == 204
    assert delete_seed(client, minted).json["code"] == "INVALID_TOKEN"
    blobs = app.extensions["mockzoho"].store.blobs
    assert not [p for p in blobs.rglob("*") if p.is_file() and p.read_bytes() == b"only until the reset"]


# -- fixtures ------------------------------------------------------------------------------------

NEW_FIXTURES = """
orgs:
  - id: acme
    users: [{id: "1", name: Ann, email: ann@acme.example}]
    tokens: [{token: acme-token, user: "1", scopes: ZohoCRM.modules.ALL}]
    crm: {records: [{module: Leads, id: "10", attachments: [{id: "11", file_name: a.txt, content: acme}]}]}
"""


def test_replace_fixtures(client: FlaskClient) -> None:
    response = client.put("/__admin/fixtures", data=NEW_FIXTURES, content_type="application/yaml")
    assert (response.status_code, response.json["orgs"]) == (200, ["acme"])
    assert client.delete("/crm/v8/Leads/10/Attachments/11", headers=auth("acme-token")).status_code == 200
    assert delete_seed(client).json["code"] == "INVALID_TOKEN"
    client.post("/__admin/reset", json={})
    assert client.delete("/crm/v8/Leads/10/Attachments/11", headers=auth("acme-token")).status_code == 200


def test_bad_fixtures_change_nothing(client: FlaskClient) -> None:
    big = (bundled_fixtures() / "demo.yaml").read_text()
    filler = "".join(f"# {'x' * 100}\n" for _ in range(100_000))  # about 10 MB
    body = big + filler + "bogus_top_level_key: 1\n"
    response = client.put("/__admin/fixtures", data=body, content_type="application/yaml")
    assert (response.status_code, response.json["error"]) == (400, "invalid_fixtures")
    assert response.json["details"] == ["request body: bogus_top_level_key: unknown field 'bogus_top_level_key' "
                                        "(fields: clients, cosmos, modules, orgs, stubs)"]
    for bad, problem in (("orgs: [\n", "not valid YAML"),
                         ("orgs: [{id: a, users: [{id: '1', name: A, email: a@b.example}], crm: {records: "
                          "[{module: Leads, id: '2', attachments: [{id: '3', path: /etc/passwd}]}]}}]",
                          "not available in fixtures sent over HTTP")):
        response = client.put("/__admin/fixtures", data=bad, content_type="application/yaml")
        assert response.status_code == 400 and problem in response.json["details"][0]
    assert delete_seed(client).status_code == 200  # the old fixtures are still there


# -- isolated orgs -------------------------------------------------------------------------------

def test_clone_is_isolated(client: FlaskClient) -> None:
    created = client.post("/__admin/orgs", json={"from": "zylker-us"})
    assert created.status_code == 201
    clone = created.json
    assert set(clone["tokens"]) >= {SEED_TOKEN, "1000.mock.refresh.full", "1000.mock.no-permission"}
    token = clone["tokens"][SEED_TOKEN]
    assert delete_seed(client, token).status_code == 200
    assert delete_seed(client, token).status_code == 400
    assert delete_seed(client).status_code == 200  # the template's copy was untouched
    assert client.get("/crm/v8/Leads/2883756000000261075/Attachments?fields=id", headers=auth(token)).status_code == 200
    no_permission = clone["tokens"]["1000.mock.no-permission"]
    assert client.delete(SEED_URL.replace("261017", "261018"), headers=auth(no_permission)).status_code == 403
    journal = client.get(f"/__admin/requests?org={clone['id']}").json["requests"]
    assert {r["org"] for r in journal} == {clone["id"]} and len(journal) == 4
    assert client.delete(f"/__admin/orgs/{clone['id']}").json == {"deleted": clone["id"]}
    assert delete_seed(client, token).json["code"] == "INVALID_TOKEN"


def test_empty_clone_and_refusals(client: FlaskClient) -> None:
    empty = client.post("/__admin/orgs", json={"empty": True, "id": "blank"}).json
    assert empty["id"] == "blank"
    assert delete_seed(client, empty["tokens"][SEED_TOKEN]).json["message"] == \
        "the related id given seems to be invalid"
    assert client.post("/__admin/orgs", json={"id": "blank"}).status_code == 409
    assert client.post("/__admin/orgs", json={"from": "nope"}).status_code == 404
    assert client.delete("/__admin/orgs/zylker-us").status_code == 409
    assert client.delete("/__admin/orgs/nope").status_code == 404
    assert client.post("/__admin/orgs", json={"from": "blank"}).status_code == 404  # only fixture orgs


def test_each_refusal_of_the_store_keeps_its_status_and_message(client: FlaskClient) -> None:
    client.post("/__admin/orgs", json={"empty": True, "id": "blank"})
    refusals = [(client.post("/__admin/reset", json={"org": "nope"}), 404, "not_found", "no org 'nope'"),
                (client.post("/__admin/orgs", json={"from": "blank"}), 404, "not_found",
                 "no fixture org 'blank' to clone"),
                (client.post("/__admin/orgs", json={"id": "blank"}), 409, "conflict", "org 'blank' already exists"),
                (client.delete("/__admin/orgs/nope"), 404, "not_found", "no org 'nope'"),
                (client.delete("/__admin/orgs/zylker-us"), 409, "conflict",
                 "zylker-us is a fixture org: it can be reset, not removed")]
    for response, status, error, message in refusals:
        assert (response.status_code, response.json["error"], response.json["message"]) == (status, error, message)


def _reset_org(client: FlaskClient) -> TestResponse:
    return client.post("/__admin/reset", json={"org": "zylker-us"})


def _clone_org(client: FlaskClient) -> TestResponse:
    return client.post("/__admin/orgs", json={})


def _delete_clone(client: FlaskClient) -> TestResponse:
    return client.delete(f"/__admin/orgs/{_clone_org(client).json['id']}")


@pytest.mark.parametrize(("call", "step", "fault"), [
    (_reset_org, "_restore", KeyError), (_clone_org, "_clone_clients", KeyError),
    (_clone_org, "_clone_clients", ValueError), (_delete_clone, "_forget_org", KeyError),
    (_delete_clone, "_forget_org", ValueError)])
def test_an_unrelated_error_inside_an_org_call_is_a_server_error(
        client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch, call: Callable[[FlaskClient], TestResponse],
        step: str, fault: type[Exception]) -> None:
    """Only the store's typed refusals are a 404 or 409: a KeyError or ValueError from a bug is the 500 it is."""
    def broken(*args: object) -> None:
        raise fault("zylker-us")

    monkeypatch.setattr(app.extensions["mockzoho"].store, step, broken)
    response = call(client)
    assert (response.status_code, response.json) == (500, {"error": "internal_error", "message": "unexpected error"})


# -- tokens and clock ----------------------------------------------------------------------------

def test_minted_tokens_and_the_clock(client: FlaskClient) -> None:
    client.put("/__admin/clock", json={"now": "2027-01-01T00:00:00Z"})
    assert client.get("/__admin/clock").json == {"now": "2027-01-01T00:00:00Z", "frozen": True}
    minted = client.post("/__admin/tokens", json={"org": "zylker-us", "user": "2883756000000113001",
                                                  "scopes": "ZohoCRM.modules.ALL", "expires_in": 60})
    assert minted.status_code == 201 and minted.json["expires_at"] == "2027-01-01T00:01:00Z"
    access = minted.json["access_token"]
    assert client.post("/__admin/clock/advance", json={"seconds": 59}).json["now"] == "2027-01-01T00:00:59Z"
    assert client.delete(SEED_URL.replace("261017", "261018"), headers=auth(access)).status_code == 200
    client.post("/__admin/clock/advance", json={"seconds": 1})
    assert delete_seed(client, access).json["code"] == "INVALID_TOKEN"
    refreshed = client.post("/oauth/v2/token", data={"grant_type": "refresh_token", "client_id": "1000.MOCKZOHOCLIENT",
                                                     "client_secret": "mockzoho-secret",
                                                     "refresh_token": minted.json["refresh_token"]})
    assert delete_seed(client, refreshed.json["access_token"]).status_code == 200
    running = client.put("/__admin/clock", json={"now": "2030-06-01T12:00:00+02:00", "frozen": False}).json
    assert running["frozen"] is False and running["now"].startswith("2030-06-01T10:00")


@pytest.mark.parametrize("path,body,status,error,said", [
    ("/__admin/tokens", {"org": "zylker-us", "user": "99", "scopes": ["x"]}, 404, "not_found",
     {"message": "no user 99 in org zylker-us"}),
    ("/__admin/tokens", {"org": "zylker-us", "scopes": []}, 400, "invalid_request",
     {"details": {"user": ["Missing data for required field."],
                  "scopes": ["must be a non-empty list of scopes (or one comma-separated string)"]}}),
    ("/__admin/clock/advance", {"seconds": "soon"}, 400, "invalid_request",
     {"details": {"seconds": ["Not a valid number."]}}),
    ("/__admin/orgs", {"from": "zylker-us", "colour": "red"}, 400, "invalid_request",
     {"details": {"colour": ["Unknown field."]}}),
])
def test_bad_admin_requests(client: FlaskClient, path: str, body: dict, status: int, error: str,
                            said: dict) -> None:
    orgs = client.get("/__admin/orgs").json
    response = client.post(path, json=body)
    assert (response.status_code, response.json["error"]) == (status, error)
    assert said.items() <= response.json.items(), response.json
    assert client.get("/__admin/orgs").json == orgs  # no org made


def test_bad_clock(client: FlaskClient) -> None:
    response = client.put("/__admin/clock", json={"now": "tomorrow"})
    assert (response.status_code, response.json["details"]) == (400, {"now": ["Not a valid datetime."]})


@pytest.mark.parametrize("now", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z"])
def test_the_clock_stays_between_1971_and_9000(client: FlaskClient, now: str) -> None:
    response = client.put("/__admin/clock", json={"now": now})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert "less than or equal to 9000-01-01" in response.json["details"]["now"][0]
    assert client.get("/__admin/clock").json["frozen"] is False  # still the real time
    assert client.put("/__admin/clock", json={"now": "8999-12-01T00:00:00Z"}).status_code == 200
    response = client.post("/__admin/clock/advance", json={"seconds": 86400 * 60})
    assert (response.status_code, response.json["message"]) == (400, "the clock must stay between 1971 and 9000")
    assert client.get("/__admin/clock").json == {"now": "8999-12-01T00:00:00Z", "frozen": True}


# -- journal -------------------------------------------------------------------------------------

def test_journal_entries_and_filters(client: FlaskClient) -> None:
    delete_seed(client, **{"X-Mockzoho-Tag": "first"})
    delete_seed(client, **{"X-Mockzoho-Tag": "second"})
    client.post("/oauth/v2/token", data={"grant_type": "refresh_token", "client_id": "x"},
                headers={"X-Mockzoho-Tag": "second"})
    entries = client.get("/__admin/requests").json["requests"]
    assert [e["tag"] for e in entries] == ["second", "second", "first"]  # newest first
    latest, first = entries[1], entries[2]
    assert set(first) >= {"time", "method", "path", "query", "headers", "body_size", "body_preview", "status",
                          "code", "duration_ms", "org", "tag"}
    assert (first["status"], first["code"], first["org"], first["product"]) == (200, "SUCCESS", "zylker-us", "crm")
    assert first["headers"]["Authorization"] == "Zoho-oauthtoken ****xxxf"
    assert (latest["status"], latest["code"]) == (400, "INVALID_DATA")
    assert entries[0]["code"] == "invalid_client" and "grant_type=refresh_token" in entries[0]["body_preview"]
    assert SEED_TOKEN not in str(entries)

    def count(query: str) -> int:
        return client.get(f"/__admin/requests/count?{query}").json["count"]
    assert count("tag=second") == 2 and count("status=400") == 1 and count("code=SUCCESS") == 1
    assert count("method=delete") == 2 and count("path=/crm/*") == 2 and count("path=/oauth/*") == 1
    assert count("org=zylker-us") == 2 and count("since=2999-01-01T00:00:00Z") == 0
    assert len(client.get("/__admin/requests?limit=1").json["requests"]) == 1
    assert client.delete("/__admin/requests?tag=first").json == {"deleted": 1}
    assert count("") == 2
    assert client.get("/__admin/requests?limit=0").status_code == 400
    assert client.get("/__admin/requests?path=" + "*a" * 20).json["details"]["path"]


def test_journal_cap(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db", "journal_cap": 5}).test_client()
    for i in range(12):
        client.delete(SEED_URL, headers={**auth(), "X-Mockzoho-Tag": str(i)})
    tags = [e["tag"] for e in client.get("/__admin/requests").json["requests"]]
    assert tags == ["11", "10", "9", "8", "7"]
    assert client.get("/__admin/requests/count").json == {"count": 5}
    assert client.delete("/__admin/requests?tag=11").json == {"deleted": 1}  # the newest: older stay dropped
    assert [e["tag"] for e in client.get("/__admin/requests").json["requests"]] == ["10", "9", "8", "7"]
    for i in range(12, 200):  # past several trims of the table
        client.delete(SEED_URL, headers={**auth(), "X-Mockzoho-Tag": str(i)})
    assert [e["tag"] for e in client.get("/__admin/requests?limit=50").json["requests"]] == [
        "199", "198", "197", "196", "195"]
    assert client.get("/__admin/requests/count").json == {"count": 5}
    store = client.application.extensions["mockzoho"].store
    assert store.journal.db.connection().execute("SELECT COUNT(*) FROM journal").fetchone()[0] <= 5 + TRIM_EVERY


def test_upload_preview_names_the_file(client: FlaskClient) -> None:
    import io
    client.post("/crm/v8/Leads/2883756000000261075/Attachments", headers=auth(),
                data={"file": (io.BytesIO(b"x" * 100_000), "big.bin")})
    [entry] = client.get("/__admin/requests").json["requests"]
    assert entry["body_preview"] == "file=big.bin" and entry["body_size"] > 100_000


# -- faults --------------------------------------------------------------------------------------

def test_fail_next_two_then_succeed(client: FlaskClient) -> None:
    fault = client.post("/__admin/faults", json={"match": {"method": "DELETE", "path": "/crm/*"},
                                                 "respond": {"code": "INTERNAL_ERROR"}, "times": 2})
    assert fault.status_code == 201
    answers = [delete_seed(client) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 200]
    assert answers[0].json == {"code": "INTERNAL_ERROR", "details": {}, "message": "Internal Server Error",
                               "status": "error"}
    [listed] = client.get("/__admin/faults").json["faults"]
    assert (listed["id"], listed["remaining"], listed["hits"]) == (fault.json["id"], 0, 2)


def test_raw_response_and_delay(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"match": {"path": "/bigin/*"}, "delay_ms": 150,
                                         "respond": {"status": 503, "body": {"oops": True},
                                                     "headers": {"Retry-After": "1"}}, "times": 1})
    began = time.monotonic()
    response = client.delete("/bigin/v2/Pipelines/2034020000000489124/Attachments/2034020000000711008",
                             headers=auth())
    assert time.monotonic() - began >= 0.15
    assert (response.status_code, response.json, response.headers["Retry-After"]) == (503, {"oops": True}, "1")


def test_fault_for_one_org_or_token(client: FlaskClient) -> None:
    clone = client.post("/__admin/orgs", json={}).json
    client.post("/__admin/faults", json={"match": {"org": clone["id"]}, "respond": {"code": "TOO_MANY_REQUESTS"}})
    assert delete_seed(client, clone["tokens"][SEED_TOKEN]).status_code == 429
    assert delete_seed(client).status_code == 200
    client.post("/__admin/faults", json={"match": {"token": "1000.mock.read-only"},
                                         "respond": {"code": "INVALID_TOKEN"}})
    listing = client.get("/crm/v8/Leads/2883756000000261075/Attachments?fields=id", headers=auth("1000.mock.read-only"))
    assert listing.json["code"] == "INVALID_TOKEN"


def test_fault_on_the_accounts_server(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"match": {"product": "accounts"}, "respond": {"code": "INVALID_TOKEN"},
                                         "times": 1})
    response = client.post("/oauth/v2/token", data={"grant_type": "refresh_token"})
    assert (response.status_code, response.json) == (200, {"error": "invalid_token"})


def test_dropped_connection(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"drop": True, "times": 1})
    with pytest.raises(ConnectionAbortedError):
        delete_seed(client)
    assert delete_seed(client).status_code == 200
    dropped = client.get("/__admin/requests?code=DROPPED").json["requests"]
    assert [(e["status"], e["path"]) for e in dropped] == [(0, SEED_URL)]


def test_dropped_connection_on_a_live_server(app: Flask) -> None:
    with serve_in_thread(app) as url:
        requests.post(f"{url}/__admin/faults", json={"drop": True, "times": 1}, timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.delete(url + SEED_URL, headers=auth(), timeout=5)
        assert requests.delete(url + SEED_URL, headers=auth(), timeout=5).status_code == 200


def test_probability_follows_the_seed(tmp_path: Path) -> None:
    def pattern(state: str) -> list[int]:
        client = create_app({"state": tmp_path / state}).test_client()
        client.post("/__admin/faults", json={"respond": {"code": "INTERNAL_ERROR"}, "probability": 0.3, "seed": 7})
        return [client.get("/crm/v8/org", headers=auth()).status_code for _ in range(40)]

    first = pattern("a.db")
    assert first == pattern("b.db")
    expected = [500 if random.Random(f"7:{hit}").random() < 0.3 else 200 for hit in range(1, 41)]
    assert first == expected and 5 < first.count(500) < 20


@pytest.mark.parametrize("spec,problem", [
    ({"match": {"path": "/crm/*"}}, "give an action"),
    ({"respond": {"code": "NOT_A_CODE"}}, "not an error code of the Zoho or Cosmos DB catalogue"),
    ({"respond": {"code": "INTERNAL_ERROR", "status": 500}}, "either a Zoho error"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "times": 2, "probability": 0.5}, "not both"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"path": "/*a*a*a*a*a*a*a*a*a*a*b"}}, "too complex"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "colour": "red"}, "Unknown field"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"method": "FETCH"}}, "not an HTTP method"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"org": "nope"}}, "no org 'nope'"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"path": "crm/*"}}, "paths start with '/'"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"product": "bigin", "path": "/crm/v8/*"}}, "start with /bigin/"),
    ({"respond": {"status": 500}, "match": {"product": "cosmos", "path": "/crm/*"}},
     "cosmos URLs start with /dbs or /media, the path '/crm/*' does not"),
    ({"respond": {"code": "INTERNAL_ERROR"}, "match": {"token": "1000.nope"}}, "token is unknown"),
    # headers a raw answer could not carry, or would carry wrong
    ({"respond": {"status": 503, "body": {}, "headers": {"X-Bad": "a\r\nb"}}}, "not a header value"),
    ({"respond": {"status": 503, "body": {}, "headers": {"Content-Length": "1"}}},
     "the server sets content-length itself"),
    ({"respond": {"status": 503, "body": {}, "headers": {"Bad Name": "x"}}}, "not a header name"),
])
def test_bad_faults(client: FlaskClient, spec: dict, problem: str) -> None:
    response = client.post("/__admin/faults", json=spec)
    assert response.status_code == 400 and problem in str(response.json)
    assert client.get("/__admin/faults").json["faults"] == []


@pytest.mark.parametrize("path", ["/dbs/*", "/media/*", "/", "/*"])
def test_a_cosmos_fault_on_a_cosmos_path_is_taken(client: FlaskClient, path: str) -> None:
    response = client.post("/__admin/faults", json={"match": {"product": "cosmos", "path": path},
                                                    "respond": {"status": 500}})
    assert response.status_code == 201
    assert [f["id"] for f in client.get("/__admin/faults").json["faults"]] == [response.json["id"]]


def test_malformed_json(client: FlaskClient) -> None:
    response = client.post("/__admin/faults", data=b"{not json", content_type="application/json")
    assert (response.status_code, response.json["error"]) == (400, "invalid_json")


def test_json_sent_with_a_form_content_type_is_taken_as_json(client: FlaskClient) -> None:
    form = "application/x-www-form-urlencoded"
    response = client.post("/__admin/faults", data='{"respond": {"code": "INTERNAL_ERROR"}, "times": 1}',
                           content_type=form)
    assert response.status_code == 201 and set(response.json) == {"id"}
    assert delete_seed(client).json["code"] == "INTERNAL_ERROR"
    assert delete_seed(client).status_code == 200
    response = client.post("/__admin/reset", data='{"org": "zylker-us"}', content_type=form)
    assert (response.status_code, response.json["reset"]) == (200, "zylker-us")
    assert delete_seed(client).status_code == 200  # the seed attachment is back


def test_remove_faults(client: FlaskClient) -> None:
    first = client.post("/__admin/faults", json={"respond": {"code": "INTERNAL_ERROR"}}).json["id"]
    client.post("/__admin/faults", json={"respond": {"code": "INTERNAL_ERROR"}})
    assert client.delete(f"/__admin/faults/{first}").json == {"deleted": 1}
    assert client.delete(f"/__admin/faults/{first}").status_code == 404
    assert client.delete("/__admin/faults").json == {"deleted": 1}
    assert delete_seed(client).status_code == 200


# -- rate limits ---------------------------------------------------------------------------------

def test_calls_per_window(client: FlaskClient) -> None:
    assert client.put("/__admin/limits/zylker-us", json={"calls": 2, "window_seconds": 60}).status_code == 200
    statuses = [client.get("/crm/v8/org", headers=auth()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/crm/v8/org", headers=auth())
    assert refused.json["code"] == "TOO_MANY_REQUESTS" and refused.json["details"] == {"limit": "calls"}
    assert client.get("/crm/v8/org", headers={**auth("1000.mock.eu"), "Host": "www.zohoapis.eu"}).status_code == 200
    client.post("/__admin/clock/advance", json={"seconds": 60})
    assert client.get("/crm/v8/org", headers=auth()).status_code == 200
    assert client.delete("/__admin/limits/zylker-us").json == {"deleted": 1}


def test_concurrency_cap(app: Flask) -> None:
    with serve_in_thread(app) as url:
        requests.put(f"{url}/__admin/limits/zylker-us", json={"concurrency": 1}, timeout=5)
        requests.post(f"{url}/__admin/faults", json={"match": {"path": "/crm/v8/org"}, "delay_ms": 500, "times": 1},
                      timeout=5)
        slow = threading.Thread(target=requests.get, args=(f"{url}/crm/v8/org",), kwargs={"headers": auth()})
        slow.start()
        time.sleep(0.2)  # the slow call is in flight
        second = requests.get(f"{url}/crm/v8/org", headers=auth(), timeout=5)
        slow.join()
        assert (second.status_code, second.json()["details"]) == (429, {"limit": "concurrency"})
        assert requests.get(f"{url}/crm/v8/org", headers=auth(), timeout=5).status_code == 200


def test_bad_limits(client: FlaskClient) -> None:
    for body in ({}, {"calls": 5}, {"concurrency": 0}):
        assert client.put("/__admin/limits/zylker-us", json=body).status_code == 400


def test_fault_and_stub_ids_are_never_reused_even_after_a_reset(backend_app: Flask) -> None:
    """On a shared server an id one test kept must not name another test's fault or stub after a reset."""
    client = backend_app.test_client()
    fault = client.post("/__admin/faults", json={"respond": {"status": 503}}).json["id"]
    stub = client.post("/__admin/stubs", json={"match": {"path": "/crm/v8/x/y/z/a"}, "respond": {"body": "a"}})
    assert client.post("/__admin/reset", json={}).status_code == 200
    again = client.post("/__admin/faults", json={"respond": {"status": 503}}).json["id"]
    restub = client.post("/__admin/stubs", json={"match": {"path": "/crm/v8/x/y/z/a"}, "respond": {"body": "b"}})
    assert again > fault and restub.json["id"] > stub.json["id"]
    assert client.delete(f"/__admin/faults/{fault}").status_code == 404
    assert client.delete(f"/__admin/stubs/{stub.json['id']}").status_code == 404
    assert [f["id"] for f in client.get("/__admin/faults").json["faults"]] == [again]
