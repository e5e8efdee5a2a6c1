"""Forwarding a call to a real API (`--proxy-to`, a stub's `proxy`), and an answer turned into a stub with
credentials and personal data redacted (`--record`). Standard library only: http.client follows no redirect."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

from ..core.templating import is_template

TIMEOUT = 30
MAX_ANSWER = 64 << 20  # an upstream answer larger than this is refused rather than held in memory
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
SECRETS = re.compile(r"(^|_)(access_token|refresh_token|id_token|client_secret|password|secret|token)$",
                     re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REDACTED = "[redacted]"
REDACTED_EMAIL = "redacted@example.com"
GLOB_SPECIALS = re.compile(r"([*?\[])")


class ProxyFailed(Exception):
    """The upstream could not be reached, or its answer not read."""


@dataclass(frozen=True)
class Upstream:
    """The real API's answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def via_mark(state: str) -> str:
    """What this server adds to `Via` (RFC 9110 7.6.3), the same in every worker of one state: a call that comes
    back with it went round in a loop."""
    return f"1.1 mockzoho-{hashlib.sha256(state.encode()).hexdigest()[:12]}"


def forward(base: str, method: str, path: str, query: str, headers: Iterable[tuple[str, str]],
            body: bytes, via: str) -> Upstream:
    """The call sent on to `base` (its path prefixed), as it came but for its connection's headers, with `via`
    added to its `Via`."""
    url = urlsplit(base)
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = kind(url.hostname or "", url.port, timeout=TIMEOUT)
    target = url.path.rstrip("/") + path + (f"?{query}" if query else "")
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)  # identity: the body is recorded as sent
        passed = []
        for name, value in headers:
            if name.lower() == "via":
                passed.append(value)
            elif name.lower() not in HOP_BY_HOP:
                conn.putheader(name, value)
        conn.putheader("Via", ", ".join([*passed, via]))
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        data = answer.read(MAX_ANSWER + 1)
        if len(data) > MAX_ANSWER:
            raise ProxyFailed(f"its answer is larger than {MAX_ANSWER} bytes")
        return Upstream(answer.status, [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP],
                        data)
    except (OSError, http.client.HTTPException) as exc:
        raise ProxyFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


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
    if SECRETS.search(key):
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
        return "{% raw %}" + value.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"
    return value


def recorded_stub(method: str, path: str, query: str, upstream: Upstream, org: str | None) -> dict[str, Any] | None:
    """The stub that answers this call as the upstream did (None for a body that is not text: not kept)."""
    match: dict[str, Any] = {"method": method, "path": GLOB_SPECIALS.sub(r"[\1]", path)}
    params = parse_qsl(query, keep_blank_values=True)
    if params:
        match["query"] = {name: GLOB_SPECIALS.sub(r"[\1]", value) for name, value in params}
    headers = {k: literal(v) for k, v in upstream.headers if k.lower() in RECORDED_HEADERS}
    respond: dict[str, Any] = {"status": upstream.status, "headers": headers}
    try:
        respond["json"] = literal(redacted(json.loads(upstream.body))) if upstream.body else None
    except ValueError:
        try:
            respond["body"] = literal(upstream.body.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    if respond.get("json", "") is None:
        del respond["json"]
    return {"match": match, "respond": respond, "org": org, "times": None, "auth": True}
