"""What the API takes as an attachment link: the upload route and the fixtures apply the same rule."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LINK_URL = 2048


def is_link_url(url: str) -> bool:
    """An absolute http or https URL with a host (and a port, if any, that is a number), of at most 2048
    characters, with no white space or control characters anywhere."""
    if len(url) > MAX_LINK_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # raises for a port that is not a number
    except ValueError:  # that, or an unbalanced IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
