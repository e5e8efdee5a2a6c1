"""The WSGI entry point: `gunicorn wsgi:app` (configured through MOCKZOHO_* environment variables)."""

from mockzoho.app import create_app

app = create_app()
