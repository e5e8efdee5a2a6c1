"""The pytest plugin's fixtures (used right here), the examples under xdist, and the control-API commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import REPO, auth
from mockzoho.app import create_app
from mockzoho.cli import main
from servers import Server, free_port, serve_in_thread

SEED_URL = "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017"
CUSTOM = Path(__file__).parent / "data" / "custom.yaml"


def test_mockzoho_app_fixture(mockzoho_app) -> None:
    assert mockzoho_app.test_client().delete(SEED_URL, headers=auth()).status_code == 200


@pytest.mark.mockzoho(fixtures=CUSTOM)
def test_marker_points_at_custom_fixtures(mockzoho_app) -> None:
    client = mockzoho_app.test_client()
    assert client.delete("/crm/v8/Leads/10/Attachments/11", headers=auth("custom-token")).status_code == 200
    assert client.delete(SEED_URL, headers=auth()).json["code"] == "INVALID_TOKEN"


def test_live_server_and_org_fixtures(mockzoho_server, mockzoho_org) -> None:
    assert mockzoho_server.accounts_url == f"{mockzoho_server.url}/oauth/v2/token"
    url = mockzoho_server.url + SEED_URL
    assert requests.delete(url, headers={"Authorization": f"Zoho-oauthtoken {mockzoho_org.token}"}).status_code == 200
    mockzoho_org.fail_next(1, "INTERNAL_ERROR")
    assert requests.delete(url, headers=mockzoho_org.headers()).status_code == 500
    assert [r["status"] for r in mockzoho_org.requests()] == [500, 200]
    mockzoho_org.reset()
    assert mockzoho_org.requests() == []
    minted = mockzoho_server.mint_token(mockzoho_org.id, "2883756000000113001", ["ZohoCRM.modules.ALL"])
    assert requests.delete(url, headers=auth(minted["access_token"])).status_code == 200


def run_examples(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_examples_pass_under_xdist() -> None:
    result = run_examples("-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 passed" in result.stdout


def test_examples_share_one_server_under_xdist(tmp_path: Path) -> None:
    port = free_port()
    cli = str(Path(sys.executable).parent / "mockzoho")
    with Server([cli, "serve", "--port", str(port), "--state", str(tmp_path / "s.db")], port) as server:
        result = run_examples("-n", "2", "--mockzoho-url", server.url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "10 passed" in result.stdout
        orgs = requests.get(f"{server.url}/__admin/orgs", timeout=5).json()["orgs"]
        assert [o["id"] for o in orgs] == ["zylker-us", "zylker-eu"]  # every test's org was removed


def cli(*args: str, capsys: pytest.CaptureFixture) -> tuple[int, list, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_control_commands(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    app = create_app({"state": tmp_path / "s.db", "admin_token": "tok"})
    with serve_in_thread(app) as url:
        common = ("--url", url, "--admin-token", "tok")
        code, [fault], _ = cli("fault", *common, "--method", "DELETE", "--path", "/crm/*", "--code", "INTERNAL_ERROR",
                               "--times", "1", capsys=capsys)
        assert code == 0 and fault["id"] == 1
        assert requests.delete(url + SEED_URL, headers={**auth(), "X-Mockzoho-Tag": "t"}).status_code == 500
        assert requests.delete(url + SEED_URL, headers={**auth(), "X-Mockzoho-Tag": "t"}).status_code == 200
        code, entries, _ = cli("requests", *common, "--tag", "t", capsys=capsys)
        assert [e["status"] for e in entries] == [200, 500]
        assert cli("requests", *common, "--tag", "t", "--count", capsys=capsys)[1] == [{"count": 2}]
        code, [listed], _ = cli("fault", *common, "--list", capsys=capsys)
        assert listed["remaining"] == 0
        code, [minted], _ = cli("token", *common, "--org", "zylker-us", "--user", "2883756000000113001",
                                "--scopes", "ZohoCRM.modules.ALL", capsys=capsys)
        other = url + SEED_URL.replace("261017", "261018")
        assert requests.delete(other, headers=auth(minted["access_token"])).status_code == 200
        assert cli("reset", *common, capsys=capsys)[1][0]["reset"] == "all"
        assert requests.delete(url + SEED_URL, headers=auth()).status_code == 200

        code, _, err = cli("reset", "--url", url, "--admin-token", "wrong", capsys=capsys)
        assert code == 2 and "admin token was refused" in err
        code, _, err = cli("token", *common, "--org", "nope", "--user", "1", "--scopes", "x", capsys=capsys)
        assert code == 1 and "no user 1 in org nope" in err
    code, _, err = cli("reset", "--url", f"http://127.0.0.1:{free_port()}", capsys=capsys)
    assert code == 2 and "is `mockzoho serve` running?" in err


def test_serve_needs_an_admin_token_off_loopback(capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "without an admin token" in capsys.readouterr().err
