"""`gunicorn wsgi:app` from a source checkout: the installed `mockzoho.wsgi:app`."""

from mockzoho.wsgi import app  # noqa: F401
