"""gunicorn settings for the baselines (`--config python:bare_config`): every setting `mockzoho.server` gives
gunicorn, the worker's among them, but not its hooks, which check and seed the mock's state before the workers
start and wrap the mock's app; the bare app has neither, and seeding would count in its ready time."""

from __future__ import annotations

from gunicorn.config import KNOWN_SETTINGS

from mockzoho import server

globals().update({setting.name: getattr(server, setting.name) for setting in KNOWN_SETTINGS
                  if hasattr(server, setting.name) and not callable(getattr(server, setting.name))})
