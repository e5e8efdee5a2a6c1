"""pytest fixtures for code that talks to Zoho: an in-process app, live servers, and an isolated org per test.

Registered through the `pytest11` entry point, so installing mockzoho is enough. Options (`pytest --help`):
`--mockzoho-fixtures PATH`, `--mockzoho-url URL` (use a server that is already running instead of starting one),
`--mockzoho-admin-token`, `--mockzoho-host` and `--mockzoho-port` (where the started server listens).
`@pytest.mark.mockzoho(fixtures=PATH)` gives one test's `mockzoho_app` or `mockzoho_own_server` its own fixtures.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from .admin.client import AdminClient, AdminClientError
from .app import create_app
from .cli import MAX_PORT, within
from .config import variable
from .exposure import Listening, local_url, loopback_only

SEED_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"
MARKER_ARGUMENTS = {"fixtures"}
SHARED_FIXTURES = ("mockzoho_server", "mockzoho_org")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockzoho")
    group.addoption("--mockzoho-fixtures", metavar="PATH",
                    help="fixtures file or folder of the app and servers the plugin starts "
                         "(default: $MOCKZOHO_FIXTURES, else the bundled ones)")
    group.addoption("--mockzoho-url", metavar="URL",
                    help="use this running mockzoho as mockzoho_server instead of starting one "
                         "(default: $MOCKZOHO_URL, else start one)")
    group.addoption("--mockzoho-admin-token", metavar="TOKEN",
                    help="the control API's token: of the server --mockzoho-url names, or for the one started "
                         "(default: $MOCKZOHO_ADMIN_TOKEN; generated for a server started beyond loopback)")
    group.addoption("--mockzoho-host", metavar="HOST", default="127.0.0.1",
                    help="address the started servers listen on (default: %(default)s)")
    group.addoption("--mockzoho-port", metavar="PORT", type=within(0, MAX_PORT), default=0,
                    help="port of the started mockzoho_server; under pytest-xdist, worker gwN takes PORT+N "
                         "(default: 0, a free port)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockzoho(fixtures=PATH): the fixtures of this test's mockzoho_app or "
                                       "mockzoho_own_server")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A marker the fixtures cannot honour fails the test that carries it, rather than being ignored."""
    marker = item.get_closest_marker("mockzoho")
    if marker is None:
        return
    unknown = [repr(arg) for arg in marker.args] + sorted(set(marker.kwargs) - MARKER_ARGUMENTS)
    if unknown:
        pytest.fail(f"pytest.mark.mockzoho takes only fixtures=PATH, not {', '.join(unknown)}", pytrace=False)
    shared = [name for name in SHARED_FIXTURES if name in getattr(item, "fixturenames", ())]
    if "fixtures" in marker.kwargs and shared:
        pytest.fail(f"pytest.mark.mockzoho(fixtures=...) cannot apply to {' and '.join(shared)}: the session "
                    "shares that server. Use mockzoho_own_server (a server for this test alone) or "
                    "mockzoho_app instead.", pytrace=False)


def option(config: pytest.Config, name: str) -> Any:
    """An option's value, else its MOCKZOHO_* variable's (read when used, not when pytest starts)."""
    value = config.getoption(f"--mockzoho-{name}")
    return value if value is not None else os.environ.get(variable(name.replace("-", "_")))


@dataclass
class LiveServer:
    """A mockzoho reachable over HTTP: `url` for API calls, `accounts_url` for tokens, `admin` to control it."""

    url: str
    admin: AdminClient

    @property
    def accounts_url(self) -> str:
        """The token endpoint, as SDKs want it (`DataCenter.Environment(url, accounts_url, url)`)."""
        return f"{self.url}/oauth/v2/token"

    # Shortcuts to the control API, as a test reads them.
    def reset(self, org: str | None = None) -> dict[str, Any]:
        return self.admin.reset(org)

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self.admin.requests(**filters)

    def fail_next(self, times: int = 1, code: str = "INTERNAL_ERROR", **match: Any) -> int:
        return self.admin.fail_next(times, code, **match)

    def mint_token(self, org: str, user: str, scopes: list[str], expires_in: int = 3600) -> dict[str, Any]:
        return self.admin.mint_token(org, user, scopes, expires_in)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.admin.advance_clock(seconds)

    def stubs(self, org: str | None = None) -> list[dict[str, Any]]:
        return self.admin.stubs(org)

    def add_stub(self, spec: dict[str, Any]) -> int:
        return self.admin.add_stub(spec)

    def remove_stub(self, stub_id: int) -> None:
        self.admin.remove_stub(stub_id)

    def clear_stubs(self, org: str | None = None) -> int:
        return self.admin.clear_stubs(org)

    def unmatched(self, org: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return self.admin.unmatched(org, limit)

    def assert_called(self, method: str | None = None, path: str | None = None, times: int | None = None,
                      at_least: int | None = None, org: str | None = None, tag: str | None = None,
                      status: int | None = None, code: str | None = None) -> None:
        """AssertionError unless such calls (`path` a glob) were journaled `times` times, or `at_least` times, or
        (neither given) at all; it shows the closest calls that were."""
        __tracebackhide__ = True
        self.admin.assert_called(method, path, times, at_least, org, tag, status, code)

    def assert_no_unmatched(self, org: str | None = None) -> None:
        __tracebackhide__ = True
        self.admin.assert_no_unmatched(org)


@dataclass
class Org:
    """An isolated org on the server: its own records, attachments, tokens, journal and faults."""

    id: str
    tokens: dict[str, str]  # fixture token -> this org's token
    server: LiveServer = field(repr=False)
    clients: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)  # fixture client id -> this
    # org's own OAuth client: {"client_id", "client_secret"}

    @property
    def token(self) -> str:
        """This org's copy of the seeds' full-scope token (or of the template's first token)."""
        return self.tokens.get(SEED_TOKEN) or next(iter(self.tokens.values()))

    def headers(self, fixture_token: str = SEED_TOKEN) -> dict[str, str]:
        """`Authorization: Zoho-oauthtoken <this org's copy of fixture_token>`."""
        return {"Authorization": f"Zoho-oauthtoken {self.tokens[fixture_token]}"}

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self.server.admin.requests(org=self.id, **filters)

    def fail_next(self, times: int = 1, code: str = "INTERNAL_ERROR", **match: Any) -> int:
        return self.server.admin.fail_next(times, code, org=self.id, **match)

    def reset(self) -> dict[str, Any]:
        return self.server.admin.reset(self.id)

    def stubs(self) -> list[dict[str, Any]]:
        return self.server.admin.stubs(self.id)

    def add_stub(self, spec: dict[str, Any]) -> int:
        """A stub for this org's calls (its `org` is this org's id, whatever the spec says)."""
        return self.server.admin.add_stub({**spec, "org": self.id})

    def remove_stub(self, stub_id: int) -> None:
        self.server.admin.remove_stub(stub_id)

    def clear_stubs(self) -> int:
        return self.server.admin.clear_stubs(self.id)

    def unmatched(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.server.admin.unmatched(self.id, limit)

    def assert_called(self, method: str | None = None, path: str | None = None, times: int | None = None,
                      at_least: int | None = None, tag: str | None = None, status: int | None = None,
                      code: str | None = None) -> None:
        """`LiveServer.assert_called` among this org's calls."""
        __tracebackhide__ = True
        self.server.admin.assert_called(method, path, times, at_least, self.id, tag, status, code)

    def assert_no_unmatched(self) -> None:
        __tracebackhide__ = True
        self.server.admin.assert_no_unmatched(self.id)


def _fixtures(config: pytest.Config, marker: pytest.Mark | None = None) -> dict[str, Any]:
    path = marker.kwargs.get("fixtures") if marker is not None else None
    path = path or option(config, "fixtures")
    return {"fixtures": str(path)} if path else {}


def app_or_fail(config: dict[str, Any]) -> Flask:
    """A mockzoho app; bad fixtures fail the test with every problem, not a traceback."""
    from .fixtures import FixtureError  # marshmallow and YAML: loaded when a test wants an app, not with pytest

    try:
        return create_app(config)
    except FixtureError as exc:
        pytest.fail("mockzoho fixtures:\n" + "\n".join(exc.problems), pytrace=False)


def xdist_port(port: int) -> int:
    """A pinned port, shifted by the pytest-xdist worker's number so that workers do not collide."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not (port and worker.startswith("gw")):
        return port
    shifted = port + int(worker[2:])
    if shifted > MAX_PORT:
        pytest.fail(f"--mockzoho-port {port}: xdist worker {worker} would take port {shifted}, past {MAX_PORT}: "
                    "pin a lower port", pytrace=False)
    return shifted


def bind(host: str, port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server bound to host and port (OSError if it cannot be: werkzeug would exit the
    process instead); its app is given by `serving`."""
    with socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        return make_server(host, sock.getsockname()[1], None, threaded=True, fd=sock.fileno())  # type: ignore[arg-type]


@contextmanager
def serving(server: BaseWSGIServer, app: Flask) -> Iterator[str]:
    """Serve the app on a bound server in a thread, telling the app where it listens; yields its base URL."""
    address = server.socket.getsockname()
    server.app = Listening(app, [address])
    thread = threading.Thread(target=server.serve_forever, name="mockzoho", daemon=True)
    thread.start()
    try:
        yield local_url(address)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def live_server(config: pytest.Config, state: Path, port: int = 0,
                marker: pytest.Mark | None = None) -> Iterator[LiveServer]:
    """A mockzoho in a thread on --mockzoho-host. Bound before the app is built: a server reachable beyond
    loopback gets an admin token (the one given, else a new one)."""
    host = config.getoption("--mockzoho-host")
    try:
        server = bind(host, port)
    except OSError as exc:  # a name that does not resolve, a port taken
        pytest.fail(f"mockzoho: cannot listen on --mockzoho-host {host!r} port {port}: {exc}", pytrace=False)
    token = option(config, "admin-token") or ("" if loopback_only([server.socket.getsockname()])
                                              else secrets.token_urlsafe(24))
    app = app_or_fail({"state": state, "admin_token": token, **_fixtures(config, marker)})
    with serving(server, app) as url:
        yield LiveServer(url, AdminClient(url, token))


@pytest.fixture
def mockzoho_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """A mockzoho app on a fresh state, for `mockzoho_app.test_client()`."""
    marker = request.node.get_closest_marker("mockzoho")
    # No admin token: the test client reaches the app in-process, and a MOCKZOHO_ADMIN_TOKEN exported for a
    # server elsewhere (--mockzoho-url) must not lock it.
    return app_or_fail({"state": tmp_path / "mockzoho" / "state.db", "admin_token": "",
                        **_fixtures(request.config, marker)})


@pytest.fixture(scope="session")
def mockzoho_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live mockzoho shared by the session (or the one --mockzoho-url names)."""
    url = option(request.config, "url")
    if url:
        yield LiveServer(url.rstrip("/"), AdminClient(url, option(request.config, "admin-token") or ""))
        return
    with live_server(request.config, tmp_path_factory.mktemp("mockzoho") / "state.db",
                     xdist_port(request.config.getoption("--mockzoho-port"))) as server:
        yield server


@pytest.fixture
def mockzoho_own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live mockzoho for one test alone, on a free port: for a test that moves its clock, replaces its
    fixtures or needs `@pytest.mark.mockzoho(fixtures=...)`."""
    with live_server(request.config, tmp_path / "mockzoho" / "state.db",
                     marker=request.node.get_closest_marker("mockzoho")) as server:
        yield server


@pytest.fixture
def mockzoho_org(mockzoho_server: LiveServer) -> Iterator[Org]:
    """A fresh isolated org (a clone of the first fixture org) for one test, removed after it."""
    created = mockzoho_server.admin.create_org()
    try:
        yield Org(created["id"], created["tokens"], mockzoho_server, created["clients"])
    finally:
        try:
            mockzoho_server.admin.delete_org(created["id"])
        except AdminClientError as exc:
            if exc.status != 404:  # a reset of everything during the test already removed it
                raise
