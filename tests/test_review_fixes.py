"""Edge cases found in review: each was a 500, a hole, or a broken promise."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from conftest import REPO, SEED_TOKEN, auth
from mockzoho import server as gunicorn_settings
from mockzoho.app import create_app
from mockzoho.cli import main
from mockzoho.store import StateError
from servers import serve_in_thread

REFRESH = {"grant_type": "refresh_token", "client_id": "1000.MOCKZOHOCLIENT", "client_secret": "mockzoho-secret",
           "refresh_token": "1000.mock.refresh.full"}


def test_every_package_is_in_the_wheel(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("mockzoho-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(REPO)) for p in (REPO / "mockzoho").rglob("__init__.py")}
    assert packages and all(f"{package}/__init__.py" in names for package in packages), packages


def test_admin_accepts_json_sent_as_a_form(client: FlaskClient) -> None:
    response = client.post("/__admin/faults", data='{"respond": {"code": "INTERNAL_ERROR"}, "times": 1}',
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    assert client.post("/__admin/reset", data="{}", content_type="application/x-www-form-urlencoded").status_code == 200


@pytest.mark.parametrize("body", [{"now": "9999-12-31T00:00:00Z"}, {"now": "0001-01-01T00:00:00Z"}])
def test_clock_stays_in_range(client: FlaskClient, body: dict) -> None:
    assert client.put("/__admin/clock", json=body).status_code == 400
    client.put("/__admin/clock", json={"now": "8999-12-01T00:00:00Z"})
    assert client.post("/__admin/clock/advance", json={"seconds": 86400 * 60}).status_code == 400
    assert client.get("/__admin/clock").status_code == 200


@pytest.mark.parametrize("query", ["page=99999999999999999999", "per_page=2&page=1000001"])
def test_huge_pages_are_refused(client: FlaskClient, query: str) -> None:
    response = client.get(f"/crm/v8/Leads/2883756000000261075/Attachments?fields=id&{query}", headers=auth())
    assert (response.status_code, response.json["code"]) == (400, "INVALID_DATA")


def test_api_domain_is_never_a_zoho_host(app) -> None:
    with serve_in_thread(app) as url:
        answer = requests.post(f"{url}/oauth/v2/token", data=REFRESH, headers={"Host": "accounts.zoho.com"}).json()
        assert answer["api_domain"] == url


@pytest.mark.parametrize("uri", ["http://127.0.0.1:80@evil.example/x", "http://127.0.0.1:8080.evil.example/x",
                                 "javascript://127.0.0.1:1/%0aalert(1)"])
def test_no_open_redirect(client: FlaskClient, uri: str) -> None:
    response = client.get("/oauth/v2/auth", query_string={"client_id": "1000.MOCKZOHOCLIENT", "response_type": "code",
                                                           "scope": "ZohoCRM.modules.ALL", "redirect_uri": uri})
    assert (response.status_code, response.json) == (400, {"error": "invalid_redirect_uri"})


def test_accounts_calls_belong_to_their_org(client: FlaskClient) -> None:
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


def test_org_fixture_survives_a_reset(mockzoho_server, mockzoho_org) -> None:
    mockzoho_server.reset()  # removes every clone; the fixture's teardown must not fail for it


def test_duplicate_modules_are_a_fixture_problem(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("""
modules: {crm: [{api_name: Foo}, {api_name: foo}]}
orgs: [{id: a, users: [{id: "1", name: A, email: a@b.example}]}]
""")
    assert main(["check-fixtures", str(tmp_path / "f.yaml")]) == 1
    client = create_app({"state": tmp_path / "s.db"}).test_client()
    response = client.put("/__admin/fixtures", data=(tmp_path / "f.yaml").read_text())
    assert response.status_code == 400 and response.json["details"] == [
        "request body: modules.crm.1.api_name: duplicate crm module 'foo' "
        "(first defined at request body: modules.crm.0.api_name)"]


@pytest.mark.parametrize("headers", [{"X-Bad": "a\r\nb"}, {"Content-Length": "1"}, {"Bad Name": "x"}])
def test_fault_headers_are_checked(client: FlaskClient, headers: dict) -> None:
    response = client.post("/__admin/faults", json={"respond": {"status": 503, "body": {}, "headers": headers}})
    assert response.status_code == 400


def test_cli_messages(capsys: pytest.CaptureFixture, app) -> None:
    with serve_in_thread(app) as url:
        assert main(["fault", "--url", url, "--status", "503", "--body", "not json"]) == 2
        assert "argument --body: JSON is needed" in capsys.readouterr().err
        assert main(["fault", "--url", url, "--code", "NOPE"]) == 1
        assert "not an error code" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="^2$"):
        main(["reset", "--url", "127.0.0.1:8000"])
    assert "an http:// or https:// URL is needed" in capsys.readouterr().err


def test_admin_token_may_not_be_a_zoho_token(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="admin token is also a Zoho access token"):
        create_app({"state": tmp_path / "s.db", "admin_token": SEED_TOKEN})


@pytest.mark.parametrize("path", ["/oauth/v2/token", "/__admin/health", "/dbs", "/crm/v8/org"])
def test_options_is_json_everywhere(client: FlaskClient, path: str) -> None:
    response = client.open(path, method="OPTIONS")
    assert response.status_code in (400, 404, 405) and response.headers["Content-Type"].startswith("application/json")


def test_gunicorn_lets_slow_transfers_finish() -> None:
    assert gunicorn_settings.timeout >= 120
    assert "python:mockzoho.server" in (REPO / "Dockerfile").read_text()


def test_a_relative_state_path_serves_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    monkeypatch.chdir(tmp_path)
    client = create_app({"state": ".mockzoho/state.db"}).test_client()
    base = "/crm/v8/Leads/2883756000000261101/Attachments"
    upload = client.post(base, headers=auth(), data={"file": (io.BytesIO(b"relative"), "r.txt")})
    new_id = upload.json["data"][0]["details"]["id"]
    assert client.get(f"{base}/{new_id}", headers=auth()).data == b"relative"
    assert client.get("/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261018",
                      headers=auth()).data.startswith(b"Proposal")


def test_redirects_to_unicode_uris_are_encoded(client: FlaskClient) -> None:
    response = client.get("/oauth/v2/auth", query_string={
        "client_id": "1000.MOCKZOHOCLIENT", "response_type": "code", "scope": "ZohoCRM.modules.ALL",
        "redirect_uri": "http://localhost/rückruf", "state": "ü"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost/r%C3%BCckruf?code=") and location.isascii()
