"""One Settings object, built from defaults, MOCKZOHO_* environment variables and explicit overrides."""

from __future__ import annotations

import dataclasses
import difflib
import os
import urllib.parse
from datetime import datetime, timezone
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .core.datacentres import DATA_CENTRES

# Where the control commands (and the pytest plugin's --mockzoho-url) find a running server.
URL_VARIABLE = "MOCKZOHO_URL"
DEFAULT_URL = "http://127.0.0.1:8000"
ZOHO_URL = "https://www.zohoapis.com"  # the example of an upstream to proxy to
TEN_YEARS = 10 * 365 * 86400  # the longest token lifetime: the control API's cap, and far from SQLite's integers


def bundled_fixtures() -> Path:
    """The fixtures folder shipped inside the package (the repository's `fixtures/`)."""
    return Path(str(resources.files("mockzoho.bundled")))


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return f"MOCKZOHO_{name.upper()}"


class SettingError(ValueError):
    """A setting that cannot be used, named as it was given: `MOCKZOHO_<NAME>`, or `setting <name>`."""

    def __init__(self, where: str, value: object, need: str) -> None:
        super().__init__(f"{where}={value!r}: {need}")


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; each field maps to MOCKZOHO_<FIELD> in the environment (HELP says what)."""

    state: Path | str = Path(".mockzoho/state.db")  # a SQLite file, or a PostgreSQL URL
    fixtures: Path = field(default_factory=bundled_fixtures)
    default_dc: str = "us"
    max_upload_bytes: int = 100 * 1024 * 1024  # the v2 docs' 100 MB
    id_seed: int = 0
    token_lifetime: int = 3600
    public_url: str = ""
    clock: str = ""
    admin_token: str = ""
    journal_cap: int = 10_000
    cosmos_verify: bool = True  # off only to replay the docs' samples, signed years ago
    proxy_to: str = ""
    record: bool = False
    access_log: bool = True  # `mockzoho serve` prints it; an app in a test process has no handler for it

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | Settings | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then the environment, then `overrides` (a dict or a ready Settings)."""
        if isinstance(overrides, Settings):
            return overrides
        environ = os.environ if environ is None else environ
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides or {}) - names
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        given = {name: (variable(name), environ[variable(name)]) for name in names if environ.get(variable(name))}
        given.update({name: (f"setting {name}", value) for name, value in (overrides or {}).items()
                      if value is not None})
        values: dict[str, Any] = {}
        for name, (where, value) in given.items():
            try:
                values[name] = _CONVERTERS[name](value)
            except ValueError as exc:
                raise SettingError(where, value, str(exc)) from None
        if values.get("record") and not values.get("proxy_to"):
            where, value = given["record"]
            upstream = variable("proxy_to") if where.startswith("MOCKZOHO_") else "setting proxy_to"
            raise SettingError(where, value, f"recording needs {upstream}, the URL to record from")
        return cls(**values)


# What `mockzoho serve --help` says of each setting's variable.
HELP = {
    "state": "the SQLite state file (its blobs go beside it), or a postgresql://user:pass@host:5432/db URL "
             "that several hosts share",
    "fixtures": "the fixtures file or folder that seeds a new state (default: the bundled ones)",
    "default_dc": f"the data centre of hosts not Zoho's: {', '.join(sorted(DATA_CENTRES))}",
    "max_upload_bytes": "the largest upload, in bytes",
    "id_seed": "new ids derive from it: same seed, same requests, same ids",
    "token_lifetime": f"seconds an access token from /oauth/v2/token lives, 0 to {TEN_YEARS}",
    "public_url": "the api_domain to announce (default: the URL the client used)",
    "clock": "an ISO time at which a new state's clock stands still (default: it runs)",
    "admin_token": "the control API's token (default: none, the control API is open: on loopback only)",
    "journal_cap": "request journal entries kept, oldest dropped",
    "cosmos_verify": "check Cosmos DB signatures and dates: true or false",
    "proxy_to": f"the upstream calls are proxied to, an http(s) URL like {ZOHO_URL} (default: none)",
    "record": "keep what the upstream answers as stubs, to answer again without it: true or false",
    "access_log": "under `mockzoho serve`, a line on stdout per API call: true or false",
}


def stray_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each MOCKZOHO_* variable mockzoho does not read: a typo would otherwise go unseen."""
    known = {variable(f.name) for f in dataclasses.fields(Settings)} | {URL_VARIABLE}
    prefix = len("MOCKZOHO_")
    warnings = []
    for name in sorted(n for n in environ if n.upper().startswith("MOCKZOHO_") and n not in known):
        # Compared without the prefix they all share, which would make any two names look alike.
        guess = difflib.get_close_matches(name.upper()[prefix:], sorted(k[prefix:] for k in known), n=1)
        hint = f" (did you mean MOCKZOHO_{guess[0]}?)" if guess else ""
        warnings.append(f"{name} is not a mockzoho variable: ignored{hint}")
    return warnings


def instant(value: str) -> float:
    """Epoch seconds of an ISO date-time; one without an offset is UTC."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _clock(value: object) -> str:
    text = str(value)
    if text:
        try:
            instant(text)  # refuse a bad time now, not at the first request
        except ValueError:
            raise ValueError("an ISO 8601 date-time is needed, e.g. 2027-01-01T00:00:00Z") from None
    return text


def _one_of(value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"one of {', '.join(sorted(allowed))} is needed")
    return value


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ValueError("true or false is needed")
    return text in ("true", "1", "yes", "on")


def _whole_number(value: object, most: int | None = None) -> int:
    need = f"a whole number {'of at least 0' if most is None else f'from 0 to {most}'} is needed"
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(need) from None
    if isinstance(value, bool) or number < 0 or (most is not None and number > most):
        raise ValueError(need)
    return number


def http_url(value: object, example: str = DEFAULT_URL) -> str:
    """An http:// or https:// URL with a host, without a trailing slash; or ''."""
    text = str(value).rstrip("/")
    if text and not _reachable(urllib.parse.urlsplit(text)):
        raise ValueError(f"an http:// or https:// URL is needed, e.g. {example}")
    return text


def _header_token(text: str) -> str:
    """A token an `Authorization: Bearer` header can carry: printable ASCII, no spaces."""
    if not all("!" <= char <= "~" for char in text):
        raise ValueError("printable ASCII without spaces is needed (it travels in an HTTP header)")
    return text


def _state_location(text: str) -> Path | str:
    """A SQLite file's path, or a PostgreSQL URL as given (`postgresql://` or `postgres://`, with a host)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("postgresql", "postgres"):
        return Path(text)
    try:
        parts.port  # noqa: B018 (a port that is no number raises)
    except ValueError:
        raise ValueError("a postgresql:// URL with a valid port is needed") from None
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("a postgresql:// URL names its host: postgresql://user:pass@host:5432/db")
    return text


def _reachable(parts: urllib.parse.SplitResult) -> bool:
    try:
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # .port: out of range, or not a number
        return False


_CONVERTERS = {
    "state": lambda v: _state_location(str(v)),
    "fixtures": Path,
    "default_dc": lambda v: _one_of(str(v).lower(), DATA_CENTRES),
    "max_upload_bytes": _whole_number,
    "id_seed": _whole_number,
    "token_lifetime": lambda v: _whole_number(v, TEN_YEARS),
    "public_url": http_url,
    "clock": _clock,
    "admin_token": lambda v: _header_token(str(v)),
    "journal_cap": _whole_number,
    "cosmos_verify": _boolean,
    "proxy_to": lambda v: http_url(v, ZOHO_URL),
    "record": _boolean,
    "access_log": _boolean,
}
