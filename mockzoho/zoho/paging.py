"""`page`/`per_page` and v8 `page_token` paging, and the `info` block that describes a page."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ..core.paging import Window
from .errors import ZohoError

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
TOKEN_LIFETIME = 24 * 3600


@dataclass(frozen=True)
class Page:
    """Which slice of a listing was asked for."""

    page: int
    per_page: int

    @property
    def window(self) -> Window:
        """The rows of the listing this page holds."""
        return Window((self.page - 1) * self.per_page, self.per_page)


def _positive(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ZohoError("INVALID_DATA", details={"param_name": name, "expected_data_type": "integer"})
    return int(value)


def parse_page(page: str | None, per_page: str | None, token: str | None, scope: str, now: int) -> Page:
    """The page asked for; `per_page` above 200 is served as 200; a token wins over `page`."""
    size = min(_positive("per_page", per_page, MAX_PER_PAGE), MAX_PER_PAGE)
    if token is None:
        return Page(_positive("page", page, 1), size)
    invalid = ZohoError("INVALID_DATA", details={"param_name": "page_token"})
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        scope_of, number, size, expires = data["s"], int(data["p"]), int(data["n"]), int(data["e"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise invalid from None
    if scope_of != scope or expires <= now or not 1 <= number <= MAX_PAGE or not 1 <= size <= MAX_PER_PAGE:
        raise invalid
    return Page(number, size)


def page_token(page: Page, scope: str, expires: int) -> str:
    """An opaque token for `page` of the listing named `scope`."""
    raw = json.dumps({"s": scope, "p": page.page, "n": page.per_page, "e": expires}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def info(page: Page, count: int, more: bool, tokens: tuple[str | None, str | None, str | None]) -> dict[str, Any]:
    """The `info` block, keys in the documented order; tokens are (next, previous, expiry) or Nones."""
    next_token, previous_token, expiry = tokens
    return {"per_page": page.per_page, "next_page_token": next_token, "count": count, "page": page.page,
            "previous_page_token": previous_token, "page_token_expiry": expiry, "more_records": more}
