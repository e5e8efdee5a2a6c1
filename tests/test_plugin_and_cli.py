"""The pytest plugin's fixtures (used right here), the examples under xdist, and the control-API commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO, auth
from mockzoho.app import create_app
from mockzoho.cli import announce, main, parser
from mockzoho.config import Settings, bundled_fixtures, variable
from servers import UNUSED_PLUGINS, Server, free_port, serve_command, serve_in_thread

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
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNUSED_PLUGINS,
                           "examples", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_examples_pass_under_xdist() -> None:
    """The examples as a user runs them: each xdist worker starts a server of its own. Not one run with the
    test below: there the workers use a server started beforehand, and the plugin starts none."""
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


def refused_by_argparse(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv,line", [
    (["serve", "--workers", "0"], "argument --workers: a whole number from 1 to 64 is needed, not '0'"),
    (["serve", "--workers", "65"], "argument --workers: a whole number from 1 to 64 is needed, not '65'"),
    (["serve", "--port", "65536"], "argument --port: a whole number from 0 to 65535 is needed, not '65536'"),
    (["serve", "--port", "http"], "argument --port: a whole number from 0 to 65535 is needed, not 'http'"),
    (["fault", "--status", "99"], "argument --status: a whole number from 100 to 599 is needed, not '99'"),
    (["fault", "--code", "X", "--times", "0"],
     "argument --times: a whole number from 1 to 9223372036854775807 is needed, not '0'"),
    (["fault", "--code", "X", "--probability", "nan"],
     "argument --probability: a number from 0 to 1 is needed, not 'nan'"),
    (["fault", "--code", "X", "--drop"], "argument --drop: not allowed with argument --code"),
    (["fault", "--code", "X", "--times", "1", "--probability", "1"],
     "argument --probability: not allowed with argument --times"),
    (["fault", "--list", "--clear"], "argument --clear: not allowed with argument --list"),
    (["fault", "--product", "crmx", "--code", "X"],
     "argument --product: invalid choice: 'crmx' (choose from 'crm', 'bigin', 'accounts', 'cosmos')"),
    (["requests", "--limit", "0"], "argument --limit: a whole number from 1 to 100000 is needed, not '0'"),
    (["requests", "--status", "-1"], "argument --status: a whole number from 0 to 999 is needed, not '-1'"),
    (["token", "--org", "o", "--user", "u", "--scopes", " , "],
     "argument --scopes: a comma-separated list of scopes is needed, e.g. ZohoCRM.modules.ALL"),
    (["token", "--org", "o", "--user", "u", "--scopes", "s", "--expires-in", "0"],
     "argument --expires-in: a whole number from 1 to 315360000 is needed, not '0'"),
    (["reset", "--url", "localhost:8000"],
     "argument --url: an http:// or https:// URL is needed, e.g. http://127.0.0.1:8000, not 'localhost:8000'"),
    (["reset", "--url", "127.0.0.1:8000"],
     "argument --url: an http:// or https:// URL is needed, e.g. http://127.0.0.1:8000, not '127.0.0.1:8000'"),
    (["serve", "--proxy-to", "zohoapis.com"],
     "argument --proxy-to: an http:// or https:// URL is needed, e.g. https://www.zohoapis.com, not 'zohoapis.com'"),
])
def test_a_bad_flag_is_refused_in_one_line(argv: list[str], line: str, capsys: pytest.CaptureFixture) -> None:
    prog = f"mockzoho {argv[0]}"
    assert refused_by_argparse(argv, capsys) == (2, f"{prog}: {line} (see {prog} --help)\n")


@pytest.mark.parametrize("argv,line", [
    (["fault"], "say what the fault does: --code CODE, --status N [--body JSON], --delay-ms MS or --drop "
                "(or --list, --clear)"),
    (["fault", "--org", "o", "--times", "2"], "say what the fault does: --code CODE, --status N [--body JSON], "
                                              "--delay-ms MS or --drop (or --list, --clear)"),
    (["fault", "--clear", "--path", "/crm/*"], "--clear takes no fault flags but --org, not --path"),
    (["fault", "--list", "--code", "X", "--delay-ms", "0"],
     "--list takes no fault flags but --org, not --code, --delay-ms"),
    (["fault", "--code", "X", "--body", "{}"], "--body goes with --status (a --code answers in its own envelope)"),
    (["fault", "--status", "500", "--body", "{"],
     "argument --body: JSON is needed (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    (["fault", "--status", "503", "--body", "not json"],
     "argument --body: JSON is needed (Expecting value: line 1 column 1 (char 0))"),
    (["fault", "--code", "X", "--seed", "1"], "--seed goes with --probability"),
])
def test_a_fault_the_server_would_refuse_is_refused_first_in_flags(argv: list[str], line: str,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("MOCKZOHO_URL", f"http://127.0.0.1:{free_port()}")  # never called
    assert main(argv) == 2
    assert capsys.readouterr().err == f"mockzoho fault: {line}\n"


def test_the_control_apis_refusals_are_said_in_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    app = create_app({"state": tmp_path / "s.db", "admin_token": "tok"})
    with serve_in_thread(app) as url:
        common = ("--url", url, "--admin-token", "tok")
        assert main(["fault", *common, "--method", "M" * 17, "--code", "INTERNAL_ERROR"]) == 1
        assert capsys.readouterr().err == "mockzoho fault: argument --method: Length must be between 1 and 16.\n"
        assert main(["requests", *common, "--path", "*a" * 9]) == 1
        assert capsys.readouterr().err == ("mockzoho requests: argument --path: the glob is too complex: at most 512 "
                                           "characters and 8 '*'\n")
        assert main(["fault", *common, "--code", "NOPE"]) == 1
        assert capsys.readouterr().err == ("mockzoho fault: this fault would never fire: NOPE is not an error code of "
                                           "the Zoho or Cosmos DB catalogue\n")
        assert main(["fault", *common, "--delay-ms", "0", "--times", "1"]) == 0  # a zero is a value, not "unset"
        [fault] = requests.get(f"{url}/__admin/faults", headers={"Authorization": "Bearer tok"}).json()["faults"]
        assert (fault["delay_ms"], fault["times"]) == (0, 1), fault
        assert main(["reset", "--url", url]) == 2
        assert capsys.readouterr().err == ("mockzoho reset: this server's control API needs its admin token: pass "
                                           "--admin-token TOKEN or set MOCKZOHO_ADMIN_TOKEN\n")
        assert main(["reset", *common[2:], "--url", f"{url}/mock"]) == 1
        assert capsys.readouterr().err == (f"mockzoho reset: what answers at {url}/mock is not mockzoho's control API "
                                           "(POST /__admin/reset: 404)\n")


def test_a_stray_variable_is_warned_of(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("MOCKZOHO_ADMINTOKEN", "tok")
    assert main(["check-fixtures", str(bundled_fixtures())]) == 0
    assert capsys.readouterr().err == ("mockzoho: warning: MOCKZOHO_ADMINTOKEN is not a mockzoho variable: ignored "
                                       "(did you mean MOCKZOHO_ADMIN_TOKEN?)\n")


def test_no_server_says_where_the_url_came_from_and_how_to_point_elsewhere(monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture) -> None:
    from mockzoho.admin import commands

    nobody = f"http://127.0.0.1:{free_port()}"
    running = f"no mockzoho answers at {nobody} ([Errno 111] Connection refused): is `mockzoho serve` running?"
    monkeypatch.setattr(commands, "DEFAULT_URL", nobody)
    assert main(["reset"]) == 2
    assert capsys.readouterr().err == (f"mockzoho reset: {running} That is the default URL: give another with "
                                       "--url URL or MOCKZOHO_URL.\n")
    monkeypatch.setenv("MOCKZOHO_URL", nobody)
    assert main(["requests"]) == 2
    assert capsys.readouterr().err == (f"mockzoho requests: {running} That URL is $MOCKZOHO_URL: give another with "
                                       "--url URL or by changing it.\n")
    assert main(["requests", "--url", nobody]) == 2
    assert capsys.readouterr().err == f"mockzoho requests: {running}\n"
    monkeypatch.setenv("MOCKZOHO_URL", "127.0.0.1:8000")
    assert main(["token", "--org", "o", "--user", "u", "--scopes", "s"]) == 2
    assert capsys.readouterr().err == ("mockzoho token: MOCKZOHO_URL='127.0.0.1:8000': an http:// or https:// URL "
                                       "is needed, e.g. http://127.0.0.1:8000\n")


@pytest.mark.parametrize("flags,env,line", [
    (["--workers", "0"], {}, "mockzoho serve: argument --workers: a whole number from 1 to 64 is needed, not '0' "
                             "(see mockzoho serve --help)"),
    ([], {"MOCKZOHO_MAX_UPLOAD_BYTES": "lots"},
     "mockzoho: MOCKZOHO_MAX_UPLOAD_BYTES='lots': a whole number of at least 0 is needed"),
    ([], {"MOCKZOHO_DEFAULT_DC": "mars"}, "mockzoho: MOCKZOHO_DEFAULT_DC='mars': one of au, ca, cn, eu, in, jp, sa, "
                                          "us is needed"),
    (["--record"], {}, "mockzoho serve: argument --record: needs --proxy-to URL (or MOCKZOHO_PROXY_TO), the upstream "
                       "to record from (see mockzoho serve --help)"),
    ([], {"MOCKZOHO_RECORD": "on"}, "mockzoho: MOCKZOHO_RECORD='on': recording needs MOCKZOHO_PROXY_TO, the URL to "
                                    "record from"),
    (["--record"], {"MOCKZOHO_PROXY_TO": "zoho"}, "mockzoho: MOCKZOHO_PROXY_TO='zoho': an http:// or https:// URL is "
                                                  "needed, e.g. https://www.zohoapis.com"),
])
def test_serve_refuses_before_it_seeds_or_binds(flags: list[str], env: dict[str, str], line: str,
                                                tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    with socket.socket() as taken:  # held: a serve that got as far as binding would say the port is in use
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(serve_command("--port", str(port), "--state", str(state), *flags), capture_output=True,
                              text=True, timeout=60, env={**os.environ, **env})
    assert (done.returncode, done.stderr, done.stdout) == (2, f"{line}\n", "")
    assert time.monotonic() - started < 10 and not state.exists()


@pytest.mark.parametrize("flags,env,settings", [
    ([], {}, ("", False, True)),
    (["--proxy-to", "https://www.zohoapis.eu/", "--record", "--no-access-log"], {},
     ("https://www.zohoapis.eu", True, False)),
    (["--record"], {"MOCKZOHO_PROXY_TO": "http://127.0.0.1:9", "MOCKZOHO_ACCESS_LOG": "false"},
     ("http://127.0.0.1:9", True, False)),
    (["--proxy-to", "http://127.0.0.1:9"], {"MOCKZOHO_RECORD": "true", "MOCKZOHO_PROXY_TO": "https://elsewhere"},
     ("http://127.0.0.1:9", True, True)),
])
def test_serve_gives_its_flags_to_the_settings(flags: list[str], env: dict[str, str], settings: tuple,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockzoho.admin import access_log
    from mockzoho.server import Server as Gunicorn

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    served, logged = [], []
    monkeypatch.setattr(Gunicorn, "run", lambda self: served.append(self.application.extensions["mockzoho"].settings))
    # Not on this process's stdout: the access log's handler would outlive the test.
    monkeypatch.setattr(access_log, "to_stdout", lambda: logged.append(True))
    assert main(["serve", "--port", "0", "--state", str(tmp_path / "s.db"), *flags]) == 0
    assert [(s.proxy_to, s.record, s.access_log) for s in served] == [settings]
    assert logged == ([True] if settings[2] else [])


def test_serve_on_port_0_says_the_port_it_got_and_what_to_export(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(serve_command("--port", "0", "--workers", "1", "--state", str(tmp_path / "s.db")),
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"^mockzoho: for .*: export MOCKZOHO_URL=(http://127\.0\.0\.1:(\d+))$",
                                      log.read_text(), re.M)) and serve.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found, log.read_text()
        url, port = found[1], found[2]
        assert f"mockzoho: {url}  state={tmp_path / 's.db'}" in log.read_text() and port != "0"
        assert requests.get(f"{url}/__admin/health", timeout=5).json()["status"] == "ok"
    finally:
        serve.terminate()
        serve.wait(timeout=30)


@pytest.mark.parametrize("host,port,env,lines", [
    ("127.0.0.1", 8000, {}, ["mockzoho: http://127.0.0.1:8000  state=s.db  fixtures=f"]),
    ("127.0.0.1", 8011, {}, ["mockzoho: http://127.0.0.1:8011  state=s.db  fixtures=f",
                             "mockzoho: for `mockzoho reset`, `requests`, `fault`, `stubs` and `token`: "
                             "export MOCKZOHO_URL=http://127.0.0.1:8011"]),
    ("127.0.0.1", 8011, {"MOCKZOHO_URL": "http://127.0.0.1:8011/"},
     ["mockzoho: http://127.0.0.1:8011  state=s.db  fixtures=f"]),
    ("127.0.0.1", 8000, {"MOCKZOHO_URL": "http://127.0.0.1:8011"},
     ["mockzoho: http://127.0.0.1:8000  state=s.db  fixtures=f",
      "mockzoho: for `mockzoho reset`, `requests`, `fault`, `stubs` and `token`: export MOCKZOHO_URL=http://127.0.0.1:8000"]),
    ("0.0.0.0", 8000, {}, ["mockzoho: http://0.0.0.0:8000  state=s.db  fixtures=f"]),
    ("::1", 8000, {}, ["mockzoho: http://[::1]:8000  state=s.db  fixtures=f",
                       "mockzoho: for `mockzoho reset`, `requests`, `fault`, `stubs` and `token`: "
                       "export MOCKZOHO_URL=http://[::1]:8000"]),
])
def test_serve_announces_what_to_export_when_the_control_commands_would_look_elsewhere(
        host: str, port: int, env: dict[str, str], lines: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    announce(host, port, Settings(state=Path("s.db"), fixtures=Path("f")))
    assert capsys.readouterr().err.splitlines() == lines


class Listener:
    """A bound socket as gunicorn's arbiter holds it, for its when_ready hook."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address

    def getsockname(self) -> tuple[str, int]:
        return self.address


def test_on_ready_comes_after_the_servers_own_judgement(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from types import SimpleNamespace

    from mockzoho.server import Server as Gunicorn

    settings = Settings(state=tmp_path / "s.db", fixtures=bundled_fixtures())
    server = Gunicorn(create_app(settings), {"bind": "127.0.0.1:0"},
                      on_ready=lambda arbiter: announce("127.0.0.1", arbiter.LISTENERS[0].getsockname()[1], settings))
    with pytest.raises(SystemExit, match="^2$"):  # bound beyond loopback, no token: stopped, nothing announced
        server.cfg.when_ready(SimpleNamespace(LISTENERS=[Listener(("0.0.0.0", 8011))]))
    assert capsys.readouterr().err.startswith("mockzoho: refusing to serve on 0.0.0.0:8011 without an admin token")
    server.cfg.when_ready(SimpleNamespace(LISTENERS=[Listener(("127.0.0.1", 8011))]))
    assert capsys.readouterr().err.splitlines()[0] == (f"mockzoho: http://127.0.0.1:8011  state={settings.state}  "
                                                       f"fixtures={settings.fixtures}")


def test_every_flag_has_help_and_says_its_default() -> None:
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, f"mockzoho {name} {action.option_strings or action.dest}: no help"
            if action.default not in (None, False, argparse.SUPPRESS):
                assert "(default: %(default)s)" in action.help, f"mockzoho {name} {action.option_strings}"


def test_serve_help_lists_every_variable(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert all(f"  {variable(f.name)} " in out for f in dataclasses.fields(Settings))
    assert "MOCKZOHO_MAX_UPLOAD_BYTES  the largest upload, in bytes (default: 104857600)" in out


def test_the_cli_takes_the_ranges_the_control_api_takes() -> None:
    from mockzoho.admin.schemas import FaultSchema, JournalQuerySchema, RespondSchema, TokenSchema

    token = ["--org", "o", "--user", "u", "--scopes", "s"]
    for argv, field in [(["fault", "--status"], RespondSchema().fields["status"]),
                        (["fault", "--code", "X", "--delay-ms"], FaultSchema().fields["delay_ms"]),
                        (["fault", "--code", "X", "--times"], FaultSchema().fields["times"]),
                        (["fault", "--code", "X", "--probability"], FaultSchema().fields["probability"]),
                        (["fault", "--code", "X", "--seed"], FaultSchema().fields["seed"]),
                        (["requests", "--status"], JournalQuerySchema().fields["status"]),
                        (["requests", "--limit"], JournalQuerySchema().fields["limit"]),
                        (["token", *token, "--expires-in"], TokenSchema().fields["expires_in"])]:
        [bounds] = field.validators
        dest = argv[-1].lstrip("-").replace("-", "_")
        assert getattr(parser().parse_args([*argv, str(bounds.min)]), dest) == bounds.min
        assert getattr(parser().parse_args([*argv, str(bounds.max)]), dest) == bounds.max
        for outside in (bounds.min - 1, bounds.max + 1):
            with pytest.raises(SystemExit):
                parser().parse_args([*argv, str(outside)])


def docs_linked_from_the_readme() -> list[str]:
    return sorted(set(re.findall(r"\bdocs/([\w-]+)\.md\b", (REPO / "README.md").read_text())))


def test_every_doc_the_readme_links_to_is_one_mockzoho_docs_prints(capsys: pytest.CaptureFixture) -> None:
    assert docs_linked_from_the_readme() == ["admin-api", "architecture", "fidelity", "fixtures"]
    for name in docs_linked_from_the_readme():
        for spelling in (name, f"docs/{name}.md"):
            assert main(["docs", spelling]) == 0
            assert capsys.readouterr().out == (REPO / "docs" / f"{name}.md").read_text()
    assert main(["docs"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed[:-1]] == docs_linked_from_the_readme()
    assert listed[0].startswith("admin-api     The control API (`/__admin`)  ") and listed[0].endswith("admin-api.md")
    assert Path(listed[0].split()[-1]).read_text() == (REPO / "docs" / "admin-api.md").read_text()
    assert listed[-1].endswith(f"the bundled fixtures, a full example: {bundled_fixtures()})")


def test_the_help_leads_to_the_docs(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "`mockzoho docs` lists them" in capsys.readouterr().out


def test_an_unknown_doc_is_refused_with_the_known_ones(capsys: pytest.CaptureFixture) -> None:
    assert main(["docs", "fixture"]) == 2
    assert capsys.readouterr().err == ("mockzoho docs: no doc 'fixture': one of admin-api, architecture, fidelity, "
                                       "fixtures\n")
