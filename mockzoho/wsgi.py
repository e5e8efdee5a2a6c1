"""The WSGI app for any server: `gunicorn --config python:mockzoho.server mockzoho.wsgi:app` (configured
through MOCKZOHO_* environment variables)."""

from .app import create_app

app = create_app()
