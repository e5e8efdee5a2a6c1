"""What a registered OAuth client is (no HTTP, no Flask: the fixtures build these while seeding)."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Client:
    """A registered OAuth client, and who consents for it on the demo authorize page."""

    id: str
    secret: str
    dc: str
    redirect_uris: tuple[str, ...]
    org: str
    user: str

    def allows_redirect(self, uri: str) -> bool:
        """A registered (glob) redirect URI; never one with userinfo or a port that is not a number, which
        a glob like `http://127.0.0.1:*` would otherwise let through to another host."""
        parts = urlsplit(uri)
        try:
            parts.port
        except ValueError:
            return False
        if "@" in parts.netloc or parts.scheme not in ("http", "https"):
            return False
        return any(fnmatchcase(uri, pattern) for pattern in self.redirect_uris)
