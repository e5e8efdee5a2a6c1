"""Forwarding a call to a real API (`--proxy-to`, a stub's `proxy`), and an answer turned into a stub with
credentials and personal data redacted (`--record`). Standard library only: http.client follows no redirect."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

from ..core.strict_json import not_json
from ..core.templating import is_template
from .redaction import JSON_SECRET_KEY, secrets_in_url

TIMEOUT = 30  # for each read from the upstream
DEADLINE = 60  # for its whole answer: one that trickles in is given up
MAX_ANSWER = 64 << 20  # an upstream answer (or a call's body sent to it) larger than this is refused
FOLD = re.compile(r"\r?\n[ \t]+")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers that belong to one connection (RFC 9110 7.6.1), and those the mock's server sets itself.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding"}
# Of the answer's headers, what a recorded stub keeps: the rest is the upstream's connection or server.
RECORDED_HEADERS = {"content-type", "content-disposition", "location", "retry-after", "x-ratelimit-limit",
                    "x-ratelimit-remaining", "x-ratelimit-reset", "etag", "last-modified"}
# Keys whose values are personal data or credentials in Zoho's and Cosmos DB's answers (fields are named in
# words joined by `_`); ids are kept, so that a replay's follow-up calls still line up.
PERSONAL = re.compile(r"(^|_)(e?mail|phone|mobile|fax|first_name|last_name|full_name|street|city|zip|zip_code|"
                      r"skype_id|twitter|date_of_birth|secondary_email)($|_)", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REDACTED = "[redacted]"
REDACTED_EMAIL = "redacted@example.com"
GLOB_SPECIALS = re.compile(r"([*?\[])")
MAX_RECORDED_HEADER = 1024  # what a stub's header value may be
ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")


class ProxyFailed(Exception):
    """The upstream could not be reached, or its answer not read."""


@dataclass(frozen=True)
class Upstream:
    """The real API's answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    length: str | None  # its Content-Length: what a HEAD's answer says of the body it does not send


def forward(base: str, method: str, path: str, query: str, headers: Iterable[tuple[str, str]],
            body: bytes, via: str) -> Upstream:
    """The call sent on to `base` (its path, still percent-encoded, prefixed), as it came but for the headers of
    its connection, with `via` added to its `Via`; ProxyFailed if no usable answer comes within DEADLINE."""
    url = urlsplit(base)
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = kind(url.hostname or "", url.port, timeout=TIMEOUT)
    target = "*" if path == "*" else url.path.rstrip("/") + path + (f"?{query}" if query else "")
    headers = list(headers)
    # A header the client names in `Connection` is one of its connection's too (RFC 9110 7.6.1).
    named = {token.strip().lower() for name, value in headers if name.lower() == "connection"
             for token in value.split(",")}
    deadline = time.monotonic() + DEADLINE
    # The per-read timeout bounds no answer that trickles in: past the deadline, the socket is shut from here.
    watchdog = threading.Timer(DEADLINE, shut, (conn,))
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)  # identity: the body is recorded as sent
        passed = []
        for name, value in headers:
            if name.lower() == "via":
                passed.append(value)
            elif name.lower() not in HOP_BY_HOP and name.lower() not in named:
                conn.putheader(name, value)
        conn.putheader("Via", ", ".join([*passed, via]))
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        watchdog.start()
        conn.endheaders(body or None)
        answer = conn.getresponse()
        data = bytearray()
        while chunk := answer.read1(65536):
            data += chunk
            if len(data) > MAX_ANSWER:
                raise ProxyFailed(f"its answer is larger than {MAX_ANSWER} bytes")
        if time.monotonic() > deadline:
            raise ProxyFailed(f"its answer took longer than {DEADLINE} s")
        return Upstream(answer.status, answer_headers(answer.getheaders()), bytes(data),
                        answer.getheader("Content-Length"))
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a status line that is no number
        if time.monotonic() > deadline:
            raise ProxyFailed(f"its answer took longer than {DEADLINE} s") from None
        raise ProxyFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        conn.close()


def shut(conn: http.client.HTTPConnection) -> None:
    """End a connection's reads from another thread (the one waiting on it then fails)."""
    try:
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed meanwhile
        pass


def answer_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's headers that may be passed on: its connection's dropped, a folded value unfolded (RFC 9112
    5.2), one HTTP could not carry on dropped."""
    kept = []
    for name, value in headers:
        value = FOLD.sub(" ", value)
        if name.lower() not in HOP_BY_HOP and value.isprintable() and HEADER_NAME.fullmatch(name):
            kept.append((name, value))
    return kept


def redacted(value: Any, key: str = "", person: bool = False) -> Any:
    """A JSON answer with credentials and personal data replaced (strings only: numbers and ids stay); in an
    object with an email (a user, an owner), its `name` is personal too."""
    if isinstance(value, dict):
        is_person = any("mail" in k.lower() for k in value)
        return {k: redacted(v, k, is_person) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(item, key, person) for item in value]
    if not isinstance(value, str) or not value:
        return value
    if JSON_SECRET_KEY.search(key):
        return REDACTED
    if EMAIL.match(value):
        return REDACTED_EMAIL
    if PERSONAL.search(key) or (person and key.lower() == "name"):
        return REDACTED
    return value


def literal(value: Any) -> Any:
    """A recorded value whose strings replay as they are: one that looks like a template is wrapped raw."""
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal(item) for item in value]
    if isinstance(value, str) and is_template(value):
        # Each `endraw` (however spelled) is sent as a quoted constant between raw blocks.
        return "{% raw %}" + ENDRAW.sub(lambda m: "{% endraw %}{{ " + json.dumps(m[0]) + " }}{% raw %}", value) \
            + "{% endraw %}"
    return value


def recorded_stub(method: str, path: str, query: str, upstream: Upstream, org: str | None) -> dict[str, Any] | None:
    """The stub that answers this call as the upstream did (None for a body that is not text: not kept)."""
    match: dict[str, Any] = {"method": method, "path": GLOB_SPECIALS.sub(r"[\1]", path)}
    params = parse_qsl(query, keep_blank_values=True)
    if params:
        match["query"] = {name: GLOB_SPECIALS.sub(r"[\1]", value) for name, value in params}
    headers = {k: literal(secrets_in_url(v) if k.lower() == "location" else v)
               for k, v in upstream.headers if k.lower() in RECORDED_HEADERS and len(v) <= MAX_RECORDED_HEADER}
    respond: dict[str, Any] = {"status": upstream.status, "headers": headers}
    try:
        decoded = json.loads(upstream.body, parse_constant=not_json) if upstream.body else None
        respond["json"] = None if decoded is None else literal(redacted(decoded))
    except RecursionError:  # nested deeper than the parser goes: not kept
        return None
    except ValueError:
        try:
            respond["body"] = literal(upstream.body.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    if respond.get("json", "") is None:
        del respond["json"]
    return {"match": match, "respond": respond, "org": org, "times": None, "auth": True}
