"""Who can reach the server: the control API needs no token only where loopback alone reaches it.

The judgement is made on the addresses the listening sockets are bound to, as the server that binds them tells
the app (a Host header or a bind string says nothing: `127.evil.example` is not loopback)."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

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
    return loopback_only(environ.get(LISTENERS))


def refusal(addresses: Iterable[Any], admin_token: str) -> str | None:
    """Why a server bound to these addresses must not start (its control API open to all), or None."""
    addresses = list(addresses)
    if admin_token or loopback_only(addresses):
        return None
    exposed = ", ".join(shown(a) for a in addresses if not is_loopback(a))
    return (f"mockzoho: refusing to serve on {exposed} without an admin token: anyone who can reach it could "
            "reset or rewrite the state. Set MOCKZOHO_ADMIN_TOKEN (or pass --admin-token).")


def shown(address: Any) -> str:
    """A socket address as `host:port` (`[::]:8000` for IPv6)."""
    if isinstance(address, (str, bytes)):
        return str(address)
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Listening:
    """WSGI middleware a server wraps the app in: each request carries the addresses the server listens on."""

    def __init__(self, app: Any, addresses: Iterable[Any]) -> None:
        self.app, self.addresses = app, tuple(addresses)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[LISTENERS] = self.addresses
        return self.app(environ, start_response)
