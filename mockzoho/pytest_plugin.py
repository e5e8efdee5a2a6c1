"""pytest fixtures for code that talks to Zoho: an in-process app, a live server, and an isolated org per test.

Registered through the `pytest11` entry point, so installing mockzoho is enough. Options:
`--mockzoho-fixtures PATH` (fixtures for the app and the server), `--mockzoho-url URL` (use a server that is
already running, e.g. one shared by several CI jobs, instead of starting one), `--mockzoho-admin-token`.
The marker `@pytest.mark.mockzoho(fixtures=PATH)` gives one test's `mockzoho_app` its own fixtures.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from .admin.client import AdminClient, AdminClientError
from .app import create_app

SEED_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockzoho")
    group.addoption("--mockzoho-fixtures", default=os.environ.get("MOCKZOHO_FIXTURES"),
                    help="fixtures file or folder for the mockzoho fixtures (default: the bundled ones)")
    group.addoption("--mockzoho-url", default=os.environ.get("MOCKZOHO_URL"),
                    help="use this running mockzoho instead of starting one")
    group.addoption("--mockzoho-admin-token", default=os.environ.get("MOCKZOHO_ADMIN_TOKEN", ""),
                    help="the control API's token of the server given by --mockzoho-url")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockzoho(fixtures=PATH): the fixtures for this test's mockzoho_app")


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


def _fixtures(config: pytest.Config, marker: pytest.Mark | None = None) -> dict[str, Any]:
    path = marker.kwargs.get("fixtures") if marker is not None else None
    path = path or config.getoption("--mockzoho-fixtures")
    return {"fixtures": str(path)} if path else {}


@pytest.fixture
def mockzoho_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """A mockzoho app on a fresh state, for `mockzoho_app.test_client()`."""
    marker = request.node.get_closest_marker("mockzoho")
    return create_app({"state": tmp_path / "mockzoho" / "state.db", **_fixtures(request.config, marker)})


@pytest.fixture(scope="session")
def mockzoho_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live mockzoho on 127.0.0.1 and a free port, in a thread (or the one --mockzoho-url names)."""
    url = request.config.getoption("--mockzoho-url")
    if url:
        yield LiveServer(url.rstrip("/"), AdminClient(url, request.config.getoption("--mockzoho-admin-token")))
        return
    state = tmp_path_factory.mktemp("mockzoho") / "state.db"
    app = create_app({"state": state, **_fixtures(request.config)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mockzoho", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield LiveServer(base, AdminClient(base, app.extensions["mockzoho"]["settings"].admin_token))
    finally:
        server.shutdown()
        thread.join()


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
