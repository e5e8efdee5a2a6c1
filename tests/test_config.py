"""Settings: defaults, MOCKZOHO_* environment variables, explicit overrides."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from mockzoho.config import Settings, bundled_fixtures


def test_defaults() -> None:
    settings = Settings.load(environ={})
    assert settings.state == Path(".mockzoho/state.db")
    assert settings.fixtures == bundled_fixtures() and (settings.fixtures / "demo.yaml").is_file()
    assert settings.default_dc == "us"


def test_environment_then_overrides() -> None:
    env = {"MOCKZOHO_STATE": "/tmp/a.db", "MOCKZOHO_FIXTURES": "/tmp/f", "MOCKZOHO_DEFAULT_DC": "EU"}
    assert Settings.load(environ=env) == Settings(Path("/tmp/a.db"), Path("/tmp/f"), "eu")
    assert Settings.load({"state": "/tmp/b.db", "fixtures": None}, environ=env).state == Path("/tmp/b.db")
    assert Settings.load({"state": "/tmp/b.db", "fixtures": None}, environ=env).fixtures == Path("/tmp/f")


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown settings: colour"):
        Settings.load({"colour": "blue"}, environ={})


@pytest.mark.parametrize("setting,value", [("default_dc", "mars"), ("max_upload_bytes", "-1"),
                                           ("id_seed", "many"), ("clock", "yesterday")])
def test_bad_values_are_refused(setting: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"setting {setting}"):
        Settings.load(environ={f"MOCKZOHO_{setting.upper()}": value})


# A value for every setting that changes what the apps do, and a server URL nobody answers at.
CALLERS_ENVIRONMENT = {"MOCKZOHO_STATE": "/nonexistent/state.db", "MOCKZOHO_FIXTURES": "/nonexistent",
                       "MOCKZOHO_DEFAULT_DC": "eu", "MOCKZOHO_MAX_UPLOAD_BYTES": "5", "MOCKZOHO_ID_SEED": "7",
                       "MOCKZOHO_TOKEN_LIFETIME": "1", "MOCKZOHO_PUBLIC_URL": "http://elsewhere.example",
                       "MOCKZOHO_CLOCK": "2001-01-01T00:00:00", "MOCKZOHO_ADMIN_TOKEN": "x",
                       "MOCKZOHO_JOURNAL_CAP": "1", "MOCKZOHO_COSMOS_VERIFY": "false",
                       "MOCKZOHO_URL": "http://127.0.0.1:9"}


def test_every_setting_is_in_the_callers_environment_of_the_next_test() -> None:
    names = {f"MOCKZOHO_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    assert names | {"MOCKZOHO_URL"} == set(CALLERS_ENVIRONMENT)


def test_the_suite_ignores_the_callers_mockzoho_variables() -> None:
    # The control API's tests (the ones an exported admin token broke) and the plugin's, run with every
    # MOCKZOHO_* variable exported as a caller might have it.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_admin.py",
                           "tests/test_plugin_and_cli.py::test_live_server_and_org_fixtures"],
                          cwd=REPO, env={**os.environ, **CALLERS_ENVIRONMENT}, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]
