"""Settings: defaults, MOCKZOHO_* environment variables, explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

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
