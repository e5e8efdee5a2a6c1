"""Credentials and grant codes shortened to their last 4 characters, wherever the toolkit keeps what passed
(the journal's requests and answers, recordings): one list of the names they go by."""

from __future__ import annotations

import re

# The request form fields that carry a credential (the accounts server's), and the JSON keys and URL parameters
# whose values are one in an answer (`code` is a grant code in a form or a redirect, a status in a JSON answer).
FORM_SECRETS = frozenset({"client_secret", "refresh_token", "code", "token"})
_JSON_WORDS = "access_token|refresh_token|id_token|client_secret|password|secret|token"
JSON_SECRET_KEY = re.compile(rf"(^|_)({_JSON_WORDS})$", re.IGNORECASE)
_JSON_SECRET_VALUE = re.compile(rf'("(?:[A-Za-z0-9]*_)?(?:{_JSON_WORDS})"\s*:\s*")([^"]*)"', re.IGNORECASE)
_URL_SECRET = re.compile(r"([?&#](?:code|access_token|refresh_token)=)([^&#]*)")


def shortened(secret: str) -> str:
    """`****` and the secret's last 4 characters."""
    return f"****{secret[-4:]}"


def secrets_in_json_text(text: str) -> str:
    """JSON text (perhaps cut short) with each credential's value shortened."""
    return _JSON_SECRET_VALUE.sub(lambda m: f'{m[1]}{shortened(m[2])}"', text)


def secrets_in_url(url: str) -> str:
    """A URL (a redirect's `Location`) with its grant code or tokens shortened."""
    return _URL_SECRET.sub(lambda m: f"{m[1]}{shortened(m[2])}", url)
