"""One Settings object, built from defaults, MOCKZOHO_* environment variables and explicit overrides."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timezone
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .zoho.datacentres import DATA_CENTRES


def bundled_fixtures() -> Path:
    """The fixtures folder shipped inside the package (the repository's `fixtures/`)."""
    return Path(str(resources.files("mockzoho.bundled")))


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; each field maps to MOCKZOHO_<FIELD> in the environment."""

    state: Path = Path(".mockzoho/state.db")
    fixtures: Path = field(default_factory=bundled_fixtures)
    default_dc: str = "us"
    max_upload_bytes: int = 100 * 1024 * 1024  # the v2 docs' 100 MB
    id_seed: int = 0                           # same seed, same requests -> same new ids
    token_lifetime: int = 3600                 # seconds an issued access token lives
    public_url: str = ""                       # the base URL to announce as api_domain, if not the Host's
    clock: str = ""                            # ISO time to freeze a new state's clock at
    admin_token: str = ""                      # when set, the control API needs `Authorization: Bearer <it>`
    journal_cap: int = 10_000                  # request journal entries kept (oldest dropped)
    cosmos_verify: bool = True                 # check Cosmos DB master-key signatures (off only for replays)

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | Settings | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then the environment, then `overrides` (a dict or a ready Settings)."""
        if isinstance(overrides, Settings):
            return overrides
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(cls)}
        for name in names:
            env_value = environ.get(f"MOCKZOHO_{name.upper()}")
            if env_value:
                values[name] = env_value
        unknown = set(overrides or {}) - names
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        for name, value in values.items():
            try:
                values[name] = _CONVERTERS[name](value)
            except ValueError as exc:
                raise ValueError(f"setting {name}: {value!r} is not valid ({exc})") from exc
        return cls(**values)


def instant(value: str) -> float:
    """Epoch seconds of an ISO date-time; one without an offset is UTC."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _clock(value: object) -> str:
    text = str(value)
    if text:
        instant(text)  # refuse a bad time now, not at the first request
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


def _whole_number(value: object) -> int:
    if isinstance(value, bool) or int(value) < 0:  # type: ignore[call-overload]
        raise ValueError("a whole number of at least 0 is needed")
    return int(value)  # type: ignore[call-overload]


_CONVERTERS = {
    "state": Path,
    "fixtures": Path,
    "default_dc": lambda v: _one_of(str(v).lower(), DATA_CENTRES),
    "max_upload_bytes": _whole_number,
    "id_seed": _whole_number,
    "token_lifetime": _whole_number,
    "public_url": lambda v: str(v).rstrip("/"),
    "clock": _clock,
    "admin_token": str,
    "journal_cap": _whole_number,
    "cosmos_verify": _boolean,
}
