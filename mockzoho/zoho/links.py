"""What the API takes as an attachment link: the upload route and the fixtures apply the same rule."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LINK_URL = 2048


def is_link_url(url: str) -> bool:
    """An absolute http or https URL of at most 2048 characters."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket, say
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(url) <= MAX_LINK_URL
