"""Stubs' rules: what a stub matches, which part of a call failed it (near misses), and what it answers (no HTTP
framework, no SQL: the state is `store.control`'s)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterator, Mapping

from ..core.templating import render, render_json
from ..store import Store

NEAR_MISSES = 3  # the closest stubs shown for a call no stub answered
NO_JSON = object()  # a body that is not JSON (or was not read): a `json` match fails on it


@dataclass(frozen=True)
class Seen:
    """A call as a stub's match sees it: query values by name, header names in lower case, the body if read."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes | None
    org: str | None = None
    _json: list[Any] = field(default_factory=list, repr=False, compare=False)  # the decoded body, once

    def json(self) -> Any:
        """The body as JSON, or NO_JSON."""
        if not self._json:
            try:
                self._json.append(NO_JSON if self.body is None else json.loads(self.body))
            except (ValueError, RecursionError):
                self._json.append(NO_JSON)
        return self._json[0]


def contains(pattern: Any, value: Any) -> bool:
    """Whether `value` holds `pattern`: objects may have more keys, arrays are matched item by item."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and contains(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        return (isinstance(value, list) and len(value) == len(pattern)
                and all(contains(p, v) for p, v in zip(pattern, value)))
    return type(pattern) is type(value) and pattern == value  # 1 is not true, nor 1.0 a match for "1"


@dataclass(frozen=True)
class Stub:
    """A stub as set: what it matches, what it answers, for which org, how often."""

    id: int
    spec: dict[str, Any]
    org: str | None
    remaining: int | None
    hits: int
    source: str

    def failures(self, seen: Seen, with_org: bool = True) -> list[str]:
        """The parts of the match this call fails (none: it matches); the org only `with_org`."""
        match, failed = self.spec.get("match", {}), []
        if "method" in match and match["method"].upper() != seen.method:
            failed.append("method")
        if "path" in match and not fnmatchcase(seen.path, match["path"]):
            failed.append("path")
        if not all(any(fnmatchcase(v, glob) for v in seen.query.get(name, ()))
                   for name, glob in match.get("query", {}).items()):
            failed.append("query")
        if not all(fnmatchcase(seen.headers.get(name.lower(), ""), glob) and name.lower() in seen.headers
                   for name, glob in match.get("headers", {}).items()):
            failed.append("headers")
        if "json" in match and not contains(match["json"], seen.json()):
            failed.append("json")
        if with_org and self.org is not None and self.org != seen.org:
            failed.append("org")
        return failed

    def listed(self) -> dict[str, Any]:
        """As the control API lists it."""
        return {"id": self.id, "match": self.spec.get("match", {}), "respond": self.spec["respond"],
                "org": self.org, "times": self.spec.get("times"), "auth": self.spec.get("auth", True),
                "remaining": self.remaining, "hits": self.hits, "source": self.source}


class Stubs:
    """The stubs of this state, shared by all workers; each answer is counted exactly once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, spec: dict[str, Any], source: str = "api") -> int:
        return self.store.add_stub({k: v for k, v in spec.items() if k != "org"}, spec.get("org"),
                                   spec.get("times"), source)

    def all(self, org: str | None = None) -> list[Stub]:
        return [Stub(*row) for row in self.store.stubs(org)]

    def remove(self, stub_id: int | None, org: str | None = None) -> int:
        return self.store.remove_stubs(stub_id, org)

    def candidates(self, seen: Seen, recorded: bool = True) -> Iterator[Stub]:
        """The stubs that match the call but for its org (to be settled by authentication), newest first: a
        test's stub overrides the fixtures'. Without `recorded`, recordings are passed over (while recording)."""
        for stub in reversed(self.all()):
            if (recorded or stub.source != "recorded") and not stub.failures(seen, with_org=False):
                yield stub

    def take(self, stub: Stub) -> bool:
        """Count an answer of the stub; False if it has none left (or was removed meanwhile)."""
        return self.store.count_stub_hit(stub.id, counted=stub.remaining is not None) is not None

    def near_misses(self, seen: Seen, stubs: list[Stub]) -> list[dict[str, Any]]:
        """The stubs closest to matching a call, each with the parts it failed: fewest failures first."""
        ranked = sorted(((stub.failures(seen), stub) for stub in stubs), key=lambda pair: (len(pair[0]), -pair[1].id))
        return [{"stub": stub.id, "failed": failed, "match": stub.spec.get("match", {}), "org": stub.org}
                for failed, stub in ranked[:NEAR_MISSES]]


def template_context(seen: Seen, org: str | None, now: str, new_id: Callable[[], str]) -> dict[str, Any]:
    """What a stub's templates may use: `request.{method,path,segments,query,headers,json,body}`, `org`, `now`
    and `new_id()` (documented in docs/admin-api.md)."""
    body = seen.json()
    return {"request": {"method": seen.method, "path": seen.path, "segments": seen.path.strip("/").split("/"),
                        "query": {name: values[0] for name, values in seen.query.items() if values},
                        "headers": dict(seen.headers), "json": None if body is NO_JSON else body,
                        "body": (seen.body or b"").decode("utf-8", "replace")},
            "org": org, "now": now, "new_id": new_id}


def rendered(respond: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[int, dict[str, str], Any, bool]:
    """A stub's answer for this call: status, headers, and the JSON value or text of its body, and whether the
    body is JSON. TemplateFailed if a template cannot be rendered."""
    headers = {name: render(value, context) for name, value in respond.get("headers", {}).items()}
    if "json" in respond:
        return respond.get("status", 200), headers, render_json(respond["json"], context), True
    return respond.get("status", 200), headers, render(respond.get("body", ""), context), False
