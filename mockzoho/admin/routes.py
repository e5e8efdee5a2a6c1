"""The control API's routes."""

from __future__ import annotations

import os
import time

from flask import Blueprint, Response

from .. import __version__
from ..config import Settings
from ..fixtures import Fixtures
from ..zoho.errors import json_response


def make_admin_blueprint(settings: Settings, fixtures: Fixtures) -> Blueprint:
    """The /__admin blueprint."""
    bp = Blueprint("admin", __name__, url_prefix="/__admin")
    started = time.monotonic()

    @bp.get("/health")
    def health() -> Response:
        return json_response({
            "status": "ok",
            "version": __version__,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - started, 3),
            "state": str(settings.state),
            "fixtures": str(settings.fixtures),
            "fixture_digest": fixtures.digest,
        })

    return bp
