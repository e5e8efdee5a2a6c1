"""Master-key authentication: recompute the HMAC-SHA256 signature over the payload the SDKs sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from .errors import CosmosError

DATE_WINDOW = 15 * 60  # seconds x-ms-date may differ from the server clock


def payload(verb: str, resource_type: str, resource_link: str, date: str) -> str:
    """`verb\\ntype\\nlink\\nx-ms-date\\n\\n`, lower-cased where the protocol says (the link is given as signed)."""
    return f"{verb.lower()}\n{resource_type.lower()}\n{resource_link}\n{date.lower()}\n\n"


def sign(key: str, text: str) -> str:
    """base64(HMAC-SHA256(base64decode(key), text))."""
    digest = hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def token_signature(header: str) -> str | None:
    """The `sig` of `type=master&ver=1.0&sig=...`, url-decoded in any hex case; None if not that form."""
    parts = dict(part.partition("=")[::2] for part in unquote(header).split("&"))
    if parts.get("type") != "master" or parts.get("ver") != "1.0" or not parts.get("sig"):
        return None
    return parts["sig"]


def check_date(date: str | None, now: float) -> None:
    """403 Forbidden unless x-ms-date is given and within 15 minutes of the server clock."""
    try:
        moment = parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        moment = None
    if moment is None or abs(moment - now) > DATE_WINDOW:
        raise CosmosError("Forbidden", "The authorization token is not valid at the current time. Please create "
                                       f"another token and retry (token start time: {date or 'missing'}, "
                                       "tokens are valid for 15 minutes around the server time).")


def authenticate(header: str | None, verb: str, resource_type: str, resource_link: str, date: str | None,
                 keys: list[str], now: float) -> None:
    """Check in the service's order: the token is there (401), is a master token (401), its x-ms-date is in the
    window (403), and it was signed with one of the account's keys over this request's payload (401)."""
    if not header:
        raise CosmosError("Unauthorized", "Required Header authorization is missing. Ensure a valid Authorization "
                                          "token is passed.")
    given = token_signature(header)
    if given is None:
        raise CosmosError("Unauthorized", "Authorization header doesn't confirm to the required format. Please "
                                          "verify and try again.")
    check_date(date, now)
    text = payload(verb, resource_type, resource_link, date or "")
    for key in keys:  # valid base64: the fixtures are refused otherwise
        if hmac.compare_digest(sign(key, text).encode(), given.encode()):
            return
    raise CosmosError("Unauthorized", "The input authorization token can't serve the request. Please check that "
                                      "the expected payload is built as per the protocol, and check the key being "
                                      f"used. Server used the following payload to sign: '{text}'")
