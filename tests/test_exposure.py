"""Safe by default: the control API needs no token only when the server listens on loopback alone, judged on the
addresses the sockets are bound to, however the app is served."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests
from conftest import REPO
from servers import Server, dockerfile_command, dockerfile_env, free_port, gunicorn_command
from werkzeug.test import Client

from mockzoho import __version__
from mockzoho.app import create_app
from mockzoho.exposure import LISTENERS, is_loopback, loopback_only, refusal

BIN = Path(sys.executable).parent
HEALTH_FIELDS = {"status", "version", "pid", "uptime_seconds", "state", "fixtures", "fixture_digest"}


@pytest.mark.parametrize("address", [("127.0.0.1", 8000), ("127.3.2.1", 1), ("::1", 8000, 0, 0),
                                     ("::ffff:127.0.0.1", 8000, 0, 0), "/run/mockzoho.sock", b"\0abstract"])
def test_loopback_addresses(address: object) -> None:
    assert is_loopback(address)


@pytest.mark.parametrize("address", [("0.0.0.0", 8000), ("::", 8000, 0, 0), ("192.0.2.1", 8000),
                                     ("::ffff:10.0.0.1", 1, 0, 0), ("fe80::1%lo", 1, 0, 2), ("127.evil.example", 1),
                                     ("127.0.0.1 ", 8000), ("localhost", 8000), ("", 8000), ()])
def test_addresses_beyond_loopback_or_not_addresses_at_all(address: object) -> None:
    assert not is_loopback(address)


def test_unknown_listeners_are_not_loopback_and_one_exposed_listener_is_enough() -> None:
    assert not loopback_only(None)
    assert loopback_only(())  # no socket at all: an in-process client
    assert not loopback_only([("127.0.0.1", 8000), ("0.0.0.0", 8001)])
    assert refusal([("127.0.0.1", 1)], "") is None and refusal([("0.0.0.0", 1)], "t") is None
    assert refusal([("127.0.0.1", 1), ("::", 2, 0, 0)], "").startswith("mockzoho: refusing to serve on [::]:2 ")


def admin_call(client: Client, path: str = "/__admin/requests", token: str | None = None,
               listeners: object = None) -> tuple[int, dict]:
    environ = {} if listeners is None else {LISTENERS: listeners}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(path, headers=headers, environ_overrides=environ)
    return response.status_code, response.get_json()


def test_the_in_process_test_client_reaches_the_control_api(app) -> None:
    assert app.test_client().get("/__admin/requests").status_code == 200
    assert set(app.test_client().get("/__admin/health").get_json()) == HEALTH_FIELDS


def test_a_server_that_does_not_say_where_it_listens_gets_a_closed_control_api(app) -> None:
    client = Client(app)  # a bare WSGI call, as a server that puts no listeners in the environ makes
    status, body = admin_call(client)
    assert status == 403 and body["error"] == "control_api_closed"
    assert "does not say which address it listens on" in body["message"]
    assert admin_call(client, listeners=(("0.0.0.0", 8000),))[1]["message"] == (
        "the control API is closed without an admin token: this server listens beyond loopback; start the server "
        "with MOCKZOHO_ADMIN_TOKEN set to use it")
    assert admin_call(client, listeners=(("127.0.0.1", 8000),))[0] == 200
    for listeners in (None, (("::", 1, 0, 0),)):
        assert admin_call(client, "/__admin/health", listeners=listeners) == (
            200, {"status": "ok", "version": __version__})
    assert client.post("/__admin/reset").status_code == 403


@pytest.mark.parametrize(("headers", "why"), [
    ({"Origin": "http://evil.example"}, "a web page of another site sent the request"),
    ({"Origin": "null"}, "a web page of another site sent the request"),
    ({"Sec-Fetch-Site": "cross-site"}, "a web page of another site sent the request"),
    ({"Host": "rebind.evil.example:8000"}, "the request names the host 'rebind.evil.example:8000', which is not "
                                           "this machine"),
    ({"Host": "127.0.0.1.evil.example"}, "the request names the host '127.0.0.1.evil.example', which is not "
                                         "this machine"),
    ({"Host": "[::1"}, "the request names the host '[::1', which is not this machine"),
    ({"X-Forwarded-For": "203.0.113.9"}, "the request came through a proxy"),
    ({"Forwarded": "for=203.0.113.9"}, "the request came through a proxy"),
    ({"X-Real-IP": "203.0.113.9"}, "the request came through a proxy")])
def test_a_request_over_loopback_sent_from_elsewhere_is_refused(app, headers: dict[str, str], why: str) -> None:
    # A browser on this machine is "loopback" too: a page must not drive (or, by DNS rebinding, read) it.
    client = app.test_client()
    for method in ("GET", "POST"):
        response = client.open("/__admin/faults", method=method, headers=headers, data="{}")
        assert response.status_code == 403, (method, headers)
        assert response.get_json()["message"] == (f"the control API is closed without an admin token: {why}; start "
                                                  "the server with MOCKZOHO_ADMIN_TOKEN set to use it")
    assert client.get("/__admin/faults").get_json() == {"faults": []}  # nothing was set
    assert client.get("/__admin/health", headers=headers).get_json() == {"status": "ok", "version": __version__}


@pytest.mark.parametrize("headers", [{"Host": "localhost:8000"}, {"Host": "127.0.0.1:8000"}, {"Host": "[::1]:8000"},
                                     {"Host": "LOCALHOST"}, {"Origin": "http://127.0.0.1:8000"},
                                     {"Origin": "http://localhost:8000", "Sec-Fetch-Site": "same-origin"}])
def test_a_request_from_this_machine_by_its_local_names_is_served(app, headers: dict[str, str]) -> None:
    assert app.test_client().post("/__admin/reset", headers=headers).status_code == 200


def test_with_a_token_health_shows_only_status_and_version_to_callers_without_it(tmp_path: Path) -> None:
    client = create_app({"state": tmp_path / "s.db", "admin_token": "s3cret"}).test_client()
    assert client.get("/__admin/health").get_json() == {"status": "ok", "version": __version__}
    assert client.get("/__admin/health", headers={"Authorization": "Bearer nope"}).get_json() == {
        "status": "ok", "version": __version__}
    full = client.get("/__admin/health", headers={"Authorization": "Bearer s3cret"}).get_json()
    assert set(full) == HEALTH_FIELDS
    assert client.get("/__admin/requests").status_code == 401


@pytest.fixture
def wildcard_socket() -> Iterator[socket.socket]:
    """A socket the test binds itself on 0.0.0.0 (every address of the machine), for gunicorn's `fd://`."""
    sock = socket.socket()
    sock.bind(("0.0.0.0", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    yield sock
    sock.close()


def image_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The image's environment, its state moved from /data into the test's folder."""
    return {**dockerfile_env(), "MOCKZOHO_STATE": str(tmp_path / "data" / "state.db"), **extra}


def test_the_image_refuses_to_start_beyond_loopback_without_a_token(tmp_path: Path,
                                                                    wildcard_socket: socket.socket) -> None:
    empty = tmp_path / "app"
    empty.mkdir()
    port = wildcard_socket.getsockname()[1]
    done = subprocess.run(dockerfile_command(f"fd://{wildcard_socket.fileno()}"), cwd=empty,
                          env=image_env(tmp_path), capture_output=True, text=True, timeout=60,
                          pass_fds=[wildcard_socket.fileno()])
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("mockzoho:")]
    assert line.startswith(f"mockzoho: refusing to serve on 0.0.0.0:{port} without an admin token")
    assert "Booting worker" not in done.stderr


def test_the_image_with_a_token_keeps_its_control_api_behind_it(tmp_path: Path,
                                                               wildcard_socket: socket.socket) -> None:
    fd = wildcard_socket.fileno()
    port = wildcard_socket.getsockname()[1]
    with Server(dockerfile_command(f"fd://{fd}"), port, env=image_env(tmp_path, MOCKZOHO_ADMIN_TOKEN="s3cret"),
                cwd=tmp_path, pass_fds=[fd]) as server:
        wildcard_socket.close()  # the server has it: a connection must reach the server, not a backlog
        assert requests.get(f"{server.url}/__admin/health").json() == {"status": "ok", "version": __version__}
        refused = requests.post(f"{server.url}/__admin/reset")
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
        bearer = {"Authorization": "Bearer s3cret"}
        assert set(requests.get(f"{server.url}/__admin/health", headers=bearer).json()) == HEALTH_FIELDS
        assert requests.post(f"{server.url}/__admin/reset", headers=bearer).status_code == 200


def test_plain_gunicorn_beyond_loopback_serves_the_api_with_the_control_api_closed(
        tmp_path: Path, wildcard_socket: socket.socket) -> None:
    fd = wildcard_socket.fileno()
    port = wildcard_socket.getsockname()[1]
    argv = [str(BIN / "gunicorn"), "--bind", f"fd://{fd}", "mockzoho.wsgi:app"]  # no mockzoho config
    with Server(argv, port, env=image_env(tmp_path), cwd=tmp_path, pass_fds=[fd]) as server:
        wildcard_socket.close()
        closed = requests.post(f"{server.url}/__admin/reset")
        assert (closed.status_code, closed.json()["error"]) == (403, "control_api_closed")
        assert requests.get(f"{server.url}/__admin/health").json() == {"status": "ok", "version": __version__}
        api = requests.get(f"{server.url}/crm/v8/Leads/1/Attachments")
        assert api.json()["code"] == "AUTHENTICATION_FAILURE"  # the Zoho API itself is served as ever


@pytest.mark.parametrize(("host", "said"), [
    ("127.0.0.1 ", "mockzoho: --host '127.0.0.1 ' is not an address this machine can listen on"),
    ("127.evil.example", "mockzoho: --host '127.evil.example' is not an address this machine can listen on"),
    ("0.0.0.0", "mockzoho: refusing to serve on 0.0.0.0:0 without an admin token"),
    ("::", "mockzoho: refusing to serve on [::]:0 without an admin token")])
def test_serve_judges_the_host_by_its_address_before_binding(host: str, said: str, tmp_path: Path) -> None:
    done = subprocess.run([str(BIN / "mockzoho"), "serve", "--host", host, "--port", "0", "--state",
                           str(tmp_path / "s.db")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(said), line
    assert not (tmp_path / "s.db").exists()  # refused before anything was seeded


NETNS_PROBE = REPO / "tests" / "netns_probe.py"


def in_a_network_namespace() -> list[str] | None:
    """The command prefix that runs a program in a new network namespace whose loopback interface also carries
    192.0.2.1 (a non-loopback address), or None if this machine does not let us make one."""
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && ip addr add 192.0.2.1/32 dev lo && exec "$@"', "-"]
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    done = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if done.returncode == 0 else None


def test_bound_to_a_non_loopback_address_in_a_network_namespace(tmp_path: Path) -> None:
    prefix = in_a_network_namespace()
    if prefix is None:
        pytest.skip("unshare -n is not permitted here: the 0.0.0.0 tests above stand for it")
    done = subprocess.run([*prefix, sys.executable, str(NETNS_PROBE), str(tmp_path)], capture_output=True,
                          text=True, timeout=180, cwd=REPO / "tests")
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen == {
        "image_without_token": [2, "mockzoho: refusing to serve on 192.0.2.1:8000 without an admin token"],
        "serve_without_token": [2, "mockzoho: refusing to serve on 192.0.2.1:8000 without an admin token"],
        "image_with_token": {"health": ["status", "version"], "no_token": 401, "token": 200},
        "image_as_docker_runs_it": {"health": ["status", "version"], "no_token": 401, "token": 200, "healthcheck": 0},
        "plain_gunicorn": {"health": ["status", "version"], "no_token": 403, "api": "AUTHENTICATION_FAILURE"},
    }


def raw_post(port: int, path: str, host: str) -> tuple[int, dict]:
    """A POST sent as a browser's page or a rebinding attack would send it, byte for byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\n{}".encode())
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_any_worker_class_tells_the_app_where_it_listens(tmp_path: Path) -> None:
    port = free_port()
    argv = [*gunicorn_command(port), "--worker-class", "gthread", "--threads", "2"]  # not mockzoho's own worker
    with Server(argv, port, env={"MOCKZOHO_STATE": str(tmp_path / "s.db")}, cwd=tmp_path):
        assert raw_post(port, "/__admin/reset", f"127.0.0.1:{port}")[0] == 200
        status, body = raw_post(port, "/__admin/reset", f"rebind.evil.example:{port}")
        assert (status, body["error"]) == (403, "control_api_closed")
