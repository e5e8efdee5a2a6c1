"""Edge cases found in review: each was a 500, a hole, or a broken promise."""

from __future__ import annotations

from conftest import REPO
from mockzoho import server as gunicorn_settings


def test_gunicorn_lets_slow_transfers_finish() -> None:
    assert gunicorn_settings.timeout >= 120
    assert "python:mockzoho.server" in (REPO / "Dockerfile").read_text()
