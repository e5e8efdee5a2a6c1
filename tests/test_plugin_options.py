"""The pytest plugin as a project uses it, in pytest runs of their own: where its server listens, its marker,
and a server of a test's own."""

from __future__ import annotations

import socket

import pytest
from conftest import REPO
from servers import UNUSED_PLUGINS

CUSTOM = REPO / "tests" / "data" / "custom.yaml"


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Run a test file in a pytest of its own (a subprocess: the plugin's session server is its own too)."""
    pytester.makepyfile(test_project=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *UNUSED_PLUGINS, *args)


def test_a_server_beyond_loopback_gets_an_admin_token(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import requests

        def test_it(mockzoho_server, mockzoho_org):
            assert len(mockzoho_server.admin.admin_token) >= 32
            assert mockzoho_server.url.startswith("http://127.0.0.1:")
            assert requests.post(mockzoho_server.url + "/__admin/reset").status_code == 401
            assert mockzoho_org.requests() == []  # the plugin's own calls carry the token
    """, "--mockzoho-host", "0.0.0.0")
    result.assert_outcomes(passed=1)


def test_a_given_token_is_the_started_servers_token(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import requests

        def test_it(mockzoho_server):
            assert mockzoho_server.admin.admin_token == "t0ken"
            reset = requests.post(mockzoho_server.url + "/__admin/reset", headers={"Authorization": "Bearer t0ken"})
            assert reset.status_code == 200
    """, "--mockzoho-admin-token", "t0ken")
    result.assert_outcomes(passed=1)


def test_the_org_fixture_tears_down_quietly_after_a_reset_removed_its_org(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import requests

        ORG = "/crm/v8/org"

        def test_a_reset_removes_the_org(mockzoho_server, mockzoho_org):
            assert requests.get(mockzoho_server.url + ORG, headers=mockzoho_org.headers()).status_code == 200
            mockzoho_server.reset()  # removes every clone, this test's org too
            gone = requests.get(mockzoho_server.url + ORG, headers=mockzoho_org.headers())
            assert (gone.status_code, gone.json()["code"]) == (401, "INVALID_TOKEN")
            assert mockzoho_org.id not in [org["id"] for org in mockzoho_server.admin.call("GET", "/orgs")["orgs"]]

        def test_the_next_test_gets_an_org_of_its_own(mockzoho_server, mockzoho_org):
            assert requests.get(mockzoho_server.url + ORG, headers=mockzoho_org.headers()).status_code == 200
    """)
    result.assert_outcomes(passed=2)  # and no error in either teardown
    assert "AdminClientError" not in result.stdout.str()


def two_free_ports() -> int:
    """A port P such that P and P+1 are both free right now."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free ports")


def test_a_pinned_port_shifts_by_the_xdist_worker(pytester: pytest.Pytester) -> None:
    port = two_free_ports()
    result = run(pytester, f"""
        import os
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_it(mockzoho_server, n):
            worker = int(os.environ["PYTEST_XDIST_WORKER"][2:])
            assert mockzoho_server.url == f"http://127.0.0.1:{{{port} + worker}}"
    """, "--mockzoho-port", str(port), "-n", "2")
    result.assert_outcomes(passed=4)


def test_the_marker_cannot_give_the_shared_server_fixtures(pytester: pytest.Pytester) -> None:
    result = run(pytester, f"""
        import pytest

        @pytest.mark.mockzoho(fixtures={str(CUSTOM)!r})
        def test_org(mockzoho_org):
            pass

        @pytest.mark.mockzoho(fixture={str(CUSTOM)!r})
        def test_typo(mockzoho_app):
            pass

        @pytest.mark.mockzoho("custom.yaml", colour=1)
        def test_positional(mockzoho_app):
            pass
    """)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines([
        "*pytest.mark.mockzoho(fixtures=...) cannot apply to mockzoho_server and mockzoho_org: the session shares "
        "that server. Use mockzoho_own_server*",
        "*pytest.mark.mockzoho takes only fixtures=PATH, not fixture",
        "*pytest.mark.mockzoho takes only fixtures=PATH, not 'custom.yaml', colour"])


def test_bad_options_and_fixtures_fail_in_a_line_not_a_traceback(pytester: pytest.Pytester, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("orgs: []\n")
    source = """
        def test_app(mockzoho_app):
            pass

        def test_server(mockzoho_server):
            pass
    """
    result = run(pytester, source, "--mockzoho-port", "70000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --mockzoho-port: a whole number from 0 to 65535 is needed, not '70000'"])
    result = run(pytester, source, "--mockzoho-host", "bogus.invalid", "--mockzoho-fixtures", str(broken))
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["mockzoho fixtures:", f"{broken}: orgs: *",
                                 "mockzoho: cannot listen on --mockzoho-host 'bogus.invalid' port 0: *"])
    assert "Traceback" not in result.stdout.str()


def test_an_exported_admin_token_does_not_lock_the_in_process_app(pytester: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKZOHO_ADMIN_TOKEN", "for-a-server-elsewhere")  # as the README's CI job exports it
    result = run(pytester, """
        def test_it(mockzoho_app):
            assert mockzoho_app.test_client().post("/__admin/reset").status_code == 200
    """)
    result.assert_outcomes(passed=1)


def test_a_server_of_its_own_takes_the_marker_and_keeps_its_clock(pytester: pytest.Pytester) -> None:
    result = run(pytester, f"""
        import time
        from datetime import datetime

        import pytest
        import requests

        @pytest.mark.mockzoho(fixtures={str(CUSTOM)!r})
        def test_own(mockzoho_own_server):
            headers = {{"Authorization": "Zoho-oauthtoken custom-token"}}
            url = mockzoho_own_server.url + "/crm/v8/Leads/10/Attachments/11"
            assert requests.delete(url, headers=headers).json()["data"][0]["code"] == "SUCCESS"
            mockzoho_own_server.advance_clock(7200)

        def test_the_shared_servers_clock_did_not_move(mockzoho_server):
            now = mockzoho_server.admin.call("GET", "/clock")["now"]
            assert abs(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() - time.time()) < 600
    """)
    result.assert_outcomes(passed=2)
