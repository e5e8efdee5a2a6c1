"""Who can reach the server: the control API needs no token only where loopback alone reaches it.

The judgement is made on the addresses the listening sockets are bound to, as the server that binds them tells
the app (a Host header or a bind string says nothing: `127.evil.example` is not loopback)."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable
from urllib.parse import urlsplit

ENV_REMEDY = "Set MOCKZOHO_ADMIN_TOKEN."  # what gunicorn with the config module reads
CLI_REMEDY = "Pass --admin-token or set MOCKZOHO_ADMIN_TOKEN."  # what `mockzoho serve` takes
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # a server on every interface, as this machine reaches it
PROXY_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_REAL_IP")
LISTENERS = "mockzoho.listeners"  # WSGI environ key: the bound addresses of the sockets the request came through


def is_loopback(address: Any) -> bool:
    """True for a socket address only this machine reaches: a loopback IP, or a Unix socket (a path)."""
    if isinstance(address, (str, bytes)):  # AF_UNIX: a file (or abstract) name, not a network address
        return True
    try:
        ip = ipaddress.ip_address(address[0].partition("%")[0])  # an IPv6 scope (`fe80::1%eth0`) is no part of it
    except (ValueError, TypeError, IndexError):
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def loopback_only(addresses: Iterable[Any] | None) -> bool:
    """True if the server listens on loopback alone. Unknown listeners (None) are not: fail closed.
    No listener at all (an in-process test client) is reachable by nobody else."""
    return addresses is not None and all(is_loopback(address) for address in addresses)


def open_without_token(environ: dict[str, Any]) -> bool:
    """True if a request may use the control API with no admin token configured."""
    return closed_because(environ) is None


def closed_because(environ: dict[str, Any]) -> str | None:
    """Why a request may not use the control API without an admin token, or None if it may."""
    listeners = environ.get(LISTENERS)
    if listeners is None:
        return ("this WSGI server does not say which address it listens on (serve the app with `mockzoho serve` "
                "or `gunicorn --config python:mockzoho.server`)")
    if not loopback_only(listeners):
        return "this server listens beyond loopback"
    return from_elsewhere(environ)


def from_elsewhere(environ: dict[str, Any]) -> str | None:
    """How a request that came in over loopback shows it was sent from elsewhere, or None: a proxy forwarded it,
    or a web page sent it (its Origin, or a Host name that is not this machine's, as DNS rebinding makes)."""
    if any(name in environ for name in PROXY_HEADERS):
        return "the request came through a proxy"
    origin = environ.get("HTTP_ORIGIN")
    if (origin is not None and not local_name(hostname(origin))) or \
            environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
        return "a web page of another site sent the request"
    host = environ.get("HTTP_HOST")
    if host is not None and not local_name(hostname(f"//{host}")):
        return f"the request names the host {host!r}, which is not this machine"
    return None


def hostname(url: str) -> str | None:
    """The host of a URL (`//host:port` for a Host header), lower-cased; None if there is none or it is malformed."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def local_name(host: str | None) -> bool:
    """True for `localhost` or a loopback IP literal."""
    return host is not None and (host == "localhost" or is_loopback((host,)))


def refusal(addresses: Iterable[Any], admin_token: str, remedy: str = ENV_REMEDY) -> str | None:
    """Why a server bound to these addresses must not start (its control API open to all), or None."""
    addresses = list(addresses)
    if admin_token or loopback_only(addresses):
        return None
    exposed = ", ".join(shown(a) for a in addresses if not is_loopback(a))
    return (f"mockzoho: refusing to serve on {exposed} without an admin token: anyone who can reach it could "
            f"reset or rewrite the state. {remedy}")


def shown(address: Any) -> str:
    """A socket address as `host:port` (`[::]:8000` for IPv6)."""
    if isinstance(address, (str, bytes)):
        return str(address)
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def local_url(address: tuple[Any, ...]) -> str:
    """The http:// URL this machine reaches a host and port at (loopback for a wildcard address)."""
    return f"http://{shown((WILDCARDS.get(address[0], address[0]), address[1]))}"


class Listening:
    """WSGI middleware a server wraps the app in: each request carries the addresses the server listens on."""

    def __init__(self, app: Any, addresses: Iterable[Any]) -> None:
        self.app, self.addresses = app, tuple(addresses)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[LISTENERS] = self.addresses
        return self.app(environ, start_response)
