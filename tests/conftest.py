"""Shared test fixtures: a fresh app per test, the bundled tokens, and the product/version targets."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockzoho.app import create_app
from mockzoho.fixtures import load_fixtures
from mockzoho.state import ZOHO_PRODUCTS
from mockzoho.store import blob_dir

from postgres import Cluster, binaries as postgres_binaries

# The suite tests mockzoho's defaults: a MOCKZOHO_* variable the caller exported (an admin token, a server URL)
# must not change what the apps, the servers it starts and the plugin see. Tests that want one set it themselves.
for name in [name for name in os.environ if name.startswith("MOCKZOHO_")]:
    del os.environ[name]

pytest_plugins = ["pytester"]
BACKENDS = ["sqlite", "postgresql"]

SEED_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"
REPO = Path(__file__).resolve().parent.parent


def auth(token: str = SEED_TOKEN) -> dict[str, str]:
    """The Authorization header Zoho expects."""
    return {"Authorization": f"Zoho-oauthtoken {token}"}


@dataclass(frozen=True)
class Target:
    """One product and version, with the bundled fixture records the contract tests use."""

    product: str
    version: str
    module: str
    record: str              # the seed's record
    attachment: str          # the seed's attachment of `record`
    more_attachments: tuple[str, ...]
    lena_record: str         # a record of the same module only the restricted user was granted
    lena_attachment: str
    other_module: str
    other_module_record: str
    bulk_records: tuple[str, ...]  # attachment-free records of `module`

    def url(self, *parts: str) -> str:
        return "/".join((f"/{self.product}/{self.version}", *parts))

    @property
    def attachment_url(self) -> str:
        return self.url(self.module, self.record, "Attachments", self.attachment)

    def __str__(self) -> str:
        return f"{self.product}-{self.version}"


# The bundled fixture records each product's contract tests use, the same in every version it serves.
SEED_RECORDS: dict[str, dict[str, Any]] = {
    "crm": dict(module="Leads", record="2883756000000261075", attachment="2883756000000261017",
                more_attachments=("2883756000000261018", "2883756000000261019", "2883756000000261020"),
                lena_record="2883756000000261099", lena_attachment="2883756000000261091",
                other_module="Contacts", other_module_record="2883756000000270001",
                bulk_records=("2883756000000261101", "2883756000000261102", "2883756000000261103")),
    "bigin": dict(module="Pipelines", record="2034020000000489124", attachment="2034020000000711008",
                  more_attachments=("2034020000000711009", "2034020000000711010"),
                  lena_record="2034020000000489199", lena_attachment="2034020000000711091",
                  other_module="Contacts", other_module_record="2034020000000490001",
                  bulk_records=("2034020000000489201", "2034020000000489202")),
}
# Every version of every product mockzoho serves, as its `Product` definition lists them: a product or version
# added there is tested here, and a product with no records above fails the suite at once (a KeyError).
TARGETS = [Target(product.name, version, **SEED_RECORDS[product.name])
           for product in ZOHO_PRODUCTS for version in product.versions]


@pytest.fixture(params=TARGETS, ids=str)
def target(request: pytest.FixtureRequest) -> Target:
    return request.param


def copy_state(seeded: Path, state: Path) -> Path:
    """A copy of a seeded state (its WAL's pages and its blobs too), for an app that should not seed again."""
    with sqlite3.connect(seeded) as source, sqlite3.connect(state) as copy:
        source.backup(copy)
    if blob_dir(seeded).exists():
        shutil.copytree(blob_dir(seeded), blob_dir(state))
    return state


@pytest.fixture(scope="session")
def seeded_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state seeded once from the bundled fixtures."""
    state = tmp_path_factory.mktemp("seeded") / "state.db"
    create_app({"state": state}).extensions["mockzoho"].store.close()
    return state


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=BACKENDS, default="sqlite",
                     help="the database of every test's `app` (the contract suite runs on both whatever this says)")


def reset_for_a_test(app: Flask) -> Iterator[Flask]:
    """A shared app, its state reset to the fixtures first, as a test run does with a shared mock server (an app
    and a state of its own would cost a test twenty times as much); what the test changed of the app itself (its
    settings, the fixtures it replaced) is put back after it."""
    state = app.extensions["mockzoho"]
    settings, seeded = state.settings, state.store.seeded_digest()
    state.store.reset()
    yield app
    state.settings = settings
    if state.store.seeded_digest() != seeded:
        state.store.replace_fixtures(load_fixtures(settings.fixtures, ZOHO_PRODUCTS))


def served(config: dict[str, Any]) -> Iterator[Flask]:
    """An app made from `config` for a fixture, its store closed after."""
    app = create_app(config)
    yield app
    app.extensions["mockzoho"].store.close()


@pytest.fixture(scope="session")
def shared_sqlite_app(tmp_path_factory: pytest.TempPathFactory, seeded_state: Path) -> Iterator[Flask]:
    """One app of this test process on a copy of the seeded SQLite state."""
    yield from served({"state": copy_state(seeded_state, tmp_path_factory.mktemp("shared") / "state.db")})


@pytest.fixture
def sqlite_app(shared_sqlite_app: Flask) -> Iterator[Flask]:
    """The shared SQLite app, reset for this test."""
    yield from reset_for_a_test(shared_sqlite_app)


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Flask:
    """The shared app on the bundled fixtures, reset for this test (most tests need not parse and seed them
    again, nor make an app), or with `--backend postgresql` one on a copy of the seeded PostgreSQL state."""
    if request.config.getoption("backend") == "postgresql":
        return request.getfixturevalue("fresh_postgres_app")
    return request.getfixturevalue("sqlite_app")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of this test process's own (skipped, with the reason, where none is installed)."""
    programs = postgres_binaries()
    if programs is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl): apt-get install postgresql")
    cluster = Cluster(programs).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def seeded_database(postgres: Cluster) -> str:
    """A PostgreSQL state seeded once from the bundled fixtures, left closed: the template of the others."""
    url = postgres.create_database("seeded")
    create_app({"state": url}).extensions["mockzoho"].store.close()
    return url


@pytest.fixture(scope="session")
def shared_postgres_app(postgres: Cluster, seeded_database: str) -> Iterator[Flask]:
    """One app of this test process on a copy of the seeded PostgreSQL state."""
    yield from served({"state": postgres.create_database("shared", template="seeded")})


@pytest.fixture
def postgres_app(shared_postgres_app: Flask) -> Iterator[Flask]:
    """The shared PostgreSQL app, reset for this test (a database of its own would cost five times as much)."""
    yield from reset_for_a_test(shared_postgres_app)


@pytest.fixture
def fresh_postgres_app(postgres: Cluster, seeded_database: str) -> Iterator[Flask]:
    """An app on a copy of the seeded PostgreSQL state of the test's own (what `copy_state` is for SQLite)."""
    name = f"t{uuid.uuid4().hex}"
    yield from served({"state": postgres.create_database(name, template="seeded")})
    postgres.sql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend_app(request: pytest.FixtureRequest) -> Flask:
    """The shared app of each database in turn, reset for this test."""
    return request.getfixturevalue({"sqlite": "sqlite_app", "postgresql": "postgres_app"}[request.param])
