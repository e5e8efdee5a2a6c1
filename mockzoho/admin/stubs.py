"""Stubs' rules: what a stub matches, which part of a call failed it (near misses), and what it answers (no HTTP
framework, no SQL: the state is `store.control`'s)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..core.templating import Budget, TemplateFailed, render, render_json
from ..store import Store

NEAR_MISSES = 3  # the closest stubs shown for a call no stub answered
# Which stub answers first, by where it came from: a test's own, then a recording, then the fixtures' (so that a
# test overrides them even after a reset has set the fixtures' again, with newer ids); the newest first within.
PRECEDENCE = {"api": 0, "recorded": 1, "fixtures": 2}
MAX_HEADER = 8192  # a rendered header value longer than this is refused (servers refuse longer heads)
NO_JSON = object()  # a body that is not JSON (or was not read): a `json` match fails on it


@dataclass(frozen=True)
class Seen:
    """A call as a stub's match sees it: query values by name, header names in lower case, and its body, read on
    first use (a match fails on its other parts first)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    read_body: Callable[[], bytes | None] = field(repr=False, compare=False)
    org: str | None = None
    _read: list[Any] = field(default_factory=list, repr=False, compare=False)  # the body and its JSON, once

    @classmethod
    def of(cls, method: str, path: str, query: Mapping[str, list[str]], headers: Iterable[tuple[str, str]],
           read_body: Callable[[], bytes | None], org: str | None) -> Seen:
        return cls(method, path, query, {name.lower(): value for name, value in headers}, read_body, org)

    def body(self) -> bytes | None:
        """The body, or None if it is not read (too large, or streamed)."""
        return self._loaded()[0]

    def json(self) -> Any:
        """The body as JSON, or NO_JSON."""
        return self._loaded()[1]

    def _loaded(self) -> list[Any]:
        if not self._read:
            body = self.read_body()
            try:
                decoded = NO_JSON if body is None else json.loads(body)
            except (ValueError, RecursionError):
                decoded = NO_JSON
            self._read.extend((body, decoded))
        return self._read


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

    def failures(self, seen: Seen, with_org: bool = True, every: bool = True) -> list[str]:
        """The parts of the match this call fails (none: it matches); the org only `with_org`. The body is looked
        at last, only if a `json` match needs it, and (not `every`) only if nothing else failed."""
        match, failed = self.spec.get("match", {}), []
        if "method" in match and match["method"].upper() not in (seen.method, "GET" if seen.method == "HEAD" else ""):
            failed.append("method")  # HEAD is GET without the body, as the routes serve it
        if "path" in match and not fnmatchcase(seen.path, match["path"]):
            failed.append("path")
        if not all(any(fnmatchcase(v, glob) for v in seen.query.get(name, ()))
                   for name, glob in match.get("query", {}).items()):
            failed.append("query")
        if not all(fnmatchcase(seen.headers.get(name.lower(), ""), glob) and name.lower() in seen.headers
                   for name, glob in match.get("headers", {}).items()):
            failed.append("headers")
        if "json" in match and ((failed and not every) or not contains(match["json"], seen.json())):
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
        self._specs: dict[int, dict[str, Any]] = {}  # decoded once: a stub's spec never changes, nor is its id reused

    def add(self, spec: dict[str, Any], source: str = "api") -> int:
        return self.store.add_stub(stored(spec), spec.get("org"), spec.get("times"), source)

    def record(self, spec: dict[str, Any]) -> int:
        """Keep a recording, in place of an earlier one of the same call and org (in one transaction)."""
        return self.store.replace_recorded_stub(stored(spec), spec.get("org"))

    def all(self, org: str | None = None) -> list[Stub]:
        found = [Stub(i, self._spec(i, text), *rest) for i, text, *rest in self.store.stubs(org)]
        if org is None:  # the specs of stubs removed meanwhile are dropped
            self._specs = {stub.id: stub.spec for stub in found}
        return found

    def _spec(self, stub_id: int, text: str) -> dict[str, Any]:
        found = self._specs.get(stub_id)
        if found is None:
            found = self._specs[stub_id] = json.loads(text)
        return found

    def remove(self, stub_id: int | None, org: str | None = None) -> int:
        return self.store.remove_stubs(stub_id, org)

    def candidates(self, seen: Seen, recorded: bool = True) -> Iterator[Stub]:
        """The stubs with answers left that match the call but for its org (settled by authentication), in
        PRECEDENCE. Without `recorded`, recordings are passed over (while recording)."""
        ordered = sorted(self.all(), key=lambda stub: (PRECEDENCE[stub.source], -stub.id))
        for stub in ordered:
            if (stub.remaining != 0 and (recorded or stub.source != "recorded")
                    and not stub.failures(seen, with_org=False, every=False)):
                yield stub

    def take(self, stub: Stub) -> bool:
        """Count an answer of the stub; False if it has none left (or was removed meanwhile)."""
        return self.store.count_stub_hit(stub.id, counted=stub.remaining is not None) is not None

    def near_misses(self, seen: Seen, stubs: list[Stub]) -> list[dict[str, Any]]:
        """The stubs closest to matching a call, each with the parts it failed: fewest failures first."""
        ranked = sorted(((stub.failures(seen), stub) for stub in stubs), key=lambda pair: (len(pair[0]), -pair[1].id))
        return [{"stub": stub.id, "failed": failed, "match": stub.spec.get("match", {}), "org": stub.org}
                for failed, stub in ranked[:NEAR_MISSES]]


def stored(spec: dict[str, Any]) -> dict[str, Any]:
    """A stub as the store keeps it: its org is a column of its own."""
    return {k: v for k, v in spec.items() if k != "org"}


def template_context(seen: Seen, org: str | None, now: str, new_id: Callable[[], str]) -> dict[str, Any]:
    """What a stub's templates may use: `request.{method,path,segments,query,headers,json,body}`, `org`, `now`
    and `new_id()` (documented in docs/admin-api.md)."""
    body = seen.json()
    return {"request": {"method": seen.method, "path": seen.path, "segments": seen.path.strip("/").split("/"),
                        "query": {name: values[0] for name, values in seen.query.items() if values},
                        "headers": dict(seen.headers), "json": None if body is NO_JSON else body,
                        "body": (seen.body() or b"").decode("utf-8", "replace")},
            "org": org, "now": now, "new_id": new_id}


def rendered(respond: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[int, dict[str, str], Any, bool]:
    """A stub's answer for this call: status, headers, and the JSON value or text of its body, and whether the
    body is JSON. TemplateFailed if a template cannot be rendered (or renders a header HTTP cannot carry)."""
    budget = Budget()
    headers = {name: header_value(name, render(value, context, budget))
               for name, value in respond.get("headers", {}).items()}
    if "json" in respond:
        return respond.get("status", 200), headers, render_json(respond["json"], context, budget), True
    return respond.get("status", 200), headers, render(respond.get("body", ""), context, budget), False


def header_value(name: str, value: str) -> str:
    """A rendered header value as HTTP carries it: latin-1, no line break (a request's `%0d%0a` cannot inject),
    at most MAX_HEADER characters."""
    if len(value) > MAX_HEADER or not value.replace("\t", " ").isprintable() or not _latin1(value):
        raise TemplateFailed(f"the header {name} rendered a value HTTP cannot carry: {value[:64]!r}")
    return value


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
