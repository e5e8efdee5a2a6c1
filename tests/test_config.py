"""Settings: defaults, MOCKZOHO_* environment variables, explicit overrides."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from mockzoho.config import HELP, SettingError, Settings, bundled_fixtures, stray_variables
from servers import UNUSED_PLUGINS


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


@pytest.mark.parametrize("variable,value,need", [
    ("MOCKZOHO_DEFAULT_DC", "mars", "one of au, ca, cn, eu, in, jp, sa, us is needed"),
    ("MOCKZOHO_MAX_UPLOAD_BYTES", "lots", "a whole number of at least 0 is needed"),
    ("MOCKZOHO_MAX_UPLOAD_BYTES", "-1", "a whole number of at least 0 is needed"),
    ("MOCKZOHO_ID_SEED", "1.5", "a whole number of at least 0 is needed"),
    ("MOCKZOHO_TOKEN_LIFETIME", "315360001", "a whole number from 0 to 315360000 is needed"),
    ("MOCKZOHO_CLOCK", "yesterday", "an ISO 8601 date-time is needed, e.g. 2027-01-01T00:00:00Z"),
    ("MOCKZOHO_PUBLIC_URL", "mock.example", "an http:// or https:// URL is needed, e.g. http://127.0.0.1:8000"),
    ("MOCKZOHO_PUBLIC_URL", "http://mock:99999", "an http:// or https:// URL is needed, e.g. http://127.0.0.1:8000"),
    ("MOCKZOHO_JOURNAL_CAP", "ten", "a whole number of at least 0 is needed"),
    ("MOCKZOHO_COSMOS_VERIFY", "maybe", "true or false is needed"),
    ("MOCKZOHO_PROXY_TO", "www.zohoapis.com", "an http:// or https:// URL is needed, e.g. https://www.zohoapis.com"),
    ("MOCKZOHO_PROXY_TO", "ftp://zoho.example", "an http:// or https:// URL is needed, e.g. https://www.zohoapis.com"),
    ("MOCKZOHO_RECORD", "maybe", "true or false is needed"),
    ("MOCKZOHO_RECORD", "true", "recording needs MOCKZOHO_PROXY_TO, the URL to record from"),
    ("MOCKZOHO_ACCESS_LOG", "perhaps", "true or false is needed"),
])
def test_bad_values_are_refused_naming_the_variable(variable: str, value: str, need: str) -> None:
    with pytest.raises(SettingError) as refused:
        Settings.load(environ={variable: value})
    assert str(refused.value) == f"{variable}={value!r}: {need}"


def test_a_bad_override_is_named_as_a_setting() -> None:
    with pytest.raises(SettingError, match="^setting id_seed='x': a whole number of at least 0 is needed$"):
        Settings.load({"id_seed": "x"}, environ={"MOCKZOHO_ID_SEED": "1"})


def test_recording_needs_a_proxy_url_wherever_either_comes_from() -> None:
    with pytest.raises(SettingError, match="^setting record=True: recording needs setting proxy_to, the URL to "
                                           "record from$"):
        Settings.load({"record": True}, environ={})
    with pytest.raises(SettingError, match="^setting record=True: recording needs"):
        Settings.load({"record": True, "proxy_to": ""}, environ={"MOCKZOHO_PROXY_TO": "https://www.zohoapis.com"})
    environ = {"MOCKZOHO_PROXY_TO": "https://www.zohoapis.com/", "MOCKZOHO_RECORD": "yes"}
    settings = Settings.load(environ=environ)
    assert (settings.proxy_to, settings.record, settings.access_log) == ("https://www.zohoapis.com", True, True)
    assert Settings.load({"record": False}, environ={"MOCKZOHO_RECORD": "true"}).record is False
    assert Settings.load(environ={"MOCKZOHO_ACCESS_LOG": "off"}).access_log is False


def test_the_largest_values_that_fit_are_taken() -> None:
    settings = Settings.load(environ={"MOCKZOHO_TOKEN_LIFETIME": "315360000", "MOCKZOHO_PUBLIC_URL": "https://m:8/"})
    assert (settings.token_lifetime, settings.public_url) == (315360000, "https://m:8")


def test_stray_variables_are_named_with_a_guess() -> None:
    environ = {"MOCKZOHO_ADMINTOKEN": "t", "mockzoho_state": "s", "MOCKZOHO_PORT": "1", "MOCKZOHO_URL": "u",
               "MOCKZOHO_STATE": "s", "HOME": "/"}
    assert stray_variables(environ) == [
        "MOCKZOHO_ADMINTOKEN is not a mockzoho variable: ignored (did you mean MOCKZOHO_ADMIN_TOKEN?)",
        "MOCKZOHO_PORT is not a mockzoho variable: ignored",
        "mockzoho_state is not a mockzoho variable: ignored (did you mean MOCKZOHO_STATE?)",
    ]


# A value for every setting that changes what the apps do, and a server URL nobody answers at.
CALLERS_ENVIRONMENT = {"MOCKZOHO_STATE": "/nonexistent/state.db", "MOCKZOHO_FIXTURES": "/nonexistent",
                       "MOCKZOHO_DEFAULT_DC": "eu", "MOCKZOHO_MAX_UPLOAD_BYTES": "5", "MOCKZOHO_ID_SEED": "7",
                       "MOCKZOHO_TOKEN_LIFETIME": "1", "MOCKZOHO_PUBLIC_URL": "http://elsewhere.example",
                       "MOCKZOHO_CLOCK": "2001-01-01T00:00:00", "MOCKZOHO_ADMIN_TOKEN": "x",
                       "MOCKZOHO_JOURNAL_CAP": "1", "MOCKZOHO_COSMOS_VERIFY": "false",
                       "MOCKZOHO_PROXY_TO": "http://127.0.0.1:9", "MOCKZOHO_RECORD": "true",
                       "MOCKZOHO_ACCESS_LOG": "false", "MOCKZOHO_URL": "http://127.0.0.1:9"}


def test_every_setting_is_in_the_callers_environment_of_the_next_test() -> None:
    names = {f"MOCKZOHO_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    assert names | {"MOCKZOHO_URL"} == set(CALLERS_ENVIRONMENT)


def test_the_suite_ignores_the_callers_mockzoho_variables() -> None:
    # The control API's tests (the ones an exported admin token broke) and the plugin's, run with every
    # MOCKZOHO_* variable exported as a caller might have it.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNUSED_PLUGINS,
                           "tests/test_admin.py", "tests/test_plugin_and_cli.py::test_live_server_and_org_fixtures"],
                          cwd=REPO, env={**os.environ, **CALLERS_ENVIRONMENT}, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]


def test_every_setting_has_help() -> None:
    assert set(HELP) == {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize("token", ["p€ss", "a b", "tab\there", "nl\n"])
def test_an_admin_token_a_header_cannot_carry_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII without spaces is needed"):
        Settings.load({"admin_token": token}, environ={})


def test_the_control_client_says_what_it_cannot_send() -> None:
    from mockzoho.admin.client import AdminClient, AdminClientError

    for client, query in ((AdminClient("http://127.0.0.1:9", "€"), None),
                          (AdminClient("http://127.0.0.1:9"), {"tag": "\udcff"})):  # argv's undecodable bytes
        with pytest.raises(AdminClientError, match="^the call cannot be sent") as caught:
            client.call("GET", "/requests", query=query)
        assert caught.value.status == 0
