"""Verifying the calls a server journaled: an AssertionError says what was expected, what came, and the calls
that came closest (WireMock's near misses), each in the access log's line with what in it differs."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

from .access_log import one_line

SHOWN = 5            # calls listed in a message
RANKED = 1000        # the newest journal entries ranked for the closest calls
UNMATCHED = 100      # the unmatched calls asked for
# How much each part of a call counts when ranking the entries by how close they come to the expected call.
WEIGHTS = {"path": 4, "method": 2, "status": 1, "code": 1, "tag": 1}


class Journal(Protocol):
    """What verifying needs of a control-API client."""

    def count(self, **filters: Any) -> int: ...
    def requests(self, **filters: Any) -> list[dict[str, Any]]: ...
    def unmatched(self, org: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Expected:
    """The calls looked for; None matches anything. `path` is a glob, as the journal's filter takes it."""

    method: str | None = None
    path: str | None = None
    status: int | None = None
    code: str | None = None
    org: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())  # as the journal's filter compares it

    def __str__(self) -> str:
        given = [f"{name}={value}" for name, value in asdict(self).items()
                 if name not in ("method", "path") and value is not None]
        return f"{self.method or '*'} {self.path or '*'}" + (f" ({', '.join(given)})" if given else "")

    def filters(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}

    def differences(self, entry: dict[str, Any]) -> list[str]:
        """What of the entry is not as expected (the org is not looked at: it scopes the calls ranked)."""
        found = []
        if self.method is not None and entry.get("method") != self.method:
            found.append(f"method {entry.get('method')}, not {self.method}")
        if self.path is not None and not fnmatchcase(str(entry.get("path")), self.path):
            found.append(path_difference(str(entry.get("path")), self.path))
        for name in ("status", "code", "tag"):
            want = getattr(self, name)
            if want is not None and entry.get(name) != want:
                found.append(f"{name} {entry.get(name) if entry.get(name) is not None else '-'}, not {want}")
        return found

    def closeness(self, entry: dict[str, Any]) -> float:
        """How much of the entry is as expected, by WEIGHTS; a path that differs counts by its segments."""
        score = 0.0
        for name, weight in WEIGHTS.items():
            want = getattr(self, name)
            if name == "path" and want is not None:
                score += weight * path_likeness(str(entry.get("path")), want)
            elif want is None or entry.get(name) == want:
                score += weight
        return score


def segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def path_difference(got: str, want: str) -> str:
    """The one segment that differs, if only one does; else both paths."""
    mine, theirs = segments(got), segments(want)
    if len(mine) == len(theirs):
        differing = [i for i, (a, b) in enumerate(zip(mine, theirs)) if not fnmatchcase(a, b)]
        if len(differing) == 1:
            i = differing[0]
            return f"path segment {i + 1} is {mine[i]}, not {theirs[i]}"
    return f"path {got}, not {want}"


def path_likeness(got: str, want: str) -> float:
    """1 for a path the glob matches; else the share of segments in place that match, and a little for how alike
    the texts are (which orders paths that share no segment in place)."""
    if fnmatchcase(got, want):
        return 1.0
    mine, theirs = segments(got), segments(want)
    in_place = sum(fnmatchcase(a, b) for a, b in zip(mine, theirs)) / max(len(mine), len(theirs))
    return 0.9 * in_place + 0.1 * difflib.SequenceMatcher(None, got, want).ratio()


def calls(count: int) -> str:
    return "one call" if count == 1 else f"{count} calls"


def assert_called(journal: Journal, expected: Expected, times: int | None = None,
                  at_least: int | None = None) -> None:
    """Raise AssertionError unless the calls expected were journaled `times` times exactly, or `at_least` times
    (neither given: at least once)."""
    __tracebackhide__ = True  # pytest shows the message, not this frame
    if times is not None and at_least is not None:
        raise TypeError("assert_called takes times or at_least, not both")
    count = journal.count(**expected.filters())
    if count == times if times is not None else count >= (1 if at_least is None else at_least):
        return
    wanted = ("no call" if times == 0 else f"exactly {calls(times)}" if times is not None
              else f"at least {calls(at_least)}" if at_least is not None else "a call")
    lines = [f"expected {wanted} of {expected}, got {count or 'none'}"]
    if times is not None and count > times:
        matched = list(reversed(journal.requests(**expected.filters(), limit=SHOWN)))
        lines.append("the calls that matched" + (f" (the newest {SHOWN}):" if count > SHOWN else ":"))
        lines += [f"  {one_line(entry)}" for entry in matched]
    else:
        lines += closest(journal, expected)
    raise AssertionError("\n".join(lines))


def closest(journal: Journal, expected: Expected) -> list[str]:
    """The lines that show the calls closest to the expected ones that were journaled (in its org, if it has one)."""
    entries = journal.requests(**({"org": expected.org} if expected.org is not None else {}), limit=RANKED)
    where = f" in org {expected.org}" if expected.org is not None else ""
    if not entries:
        return [f"nothing was journaled{where}"]
    # Newest first, kept so by the stable sort: of two calls as close, the newer one is shown first.
    misses = [(expected.closeness(e), e, found) for e in entries if (found := expected.differences(e))]
    misses.sort(key=lambda miss: -miss[0])
    lines = [f"the closest calls journaled{where}:"]
    for _, entry, found in misses[:SHOWN]:
        lines += [f"  {one_line(entry)}", f"    {'; '.join(found)}"]
    return lines


def assert_no_unmatched(journal: Journal, org: str | None = None) -> None:
    """Raise AssertionError if a call (of `org`'s, if given) got the answer of no route, stub or proxy."""
    __tracebackhide__ = True
    entries = sorted(journal.unmatched(org=org, limit=UNMATCHED), key=lambda entry: entry["id"])
    if not entries:
        return
    count = (f"{UNMATCHED} or more calls" if len(entries) >= UNMATCHED else "a call" if len(entries) == 1
             else calls(len(entries)))
    where = f" of org {org}" if org is not None else ""
    shown = f" (the first {SHOWN})" if len(entries) > SHOWN else ""
    lines = [f"{count}{where} matched no route, stub or proxy{shown}:"]
    for entry in entries[:SHOWN]:
        lines.append(f"  {one_line(entry)}")
        for miss in entry.get("near_misses", [])[:SHOWN]:
            match = json.dumps(miss.get("match"), ensure_ascii=False, separators=(",", ":"))
            lines.append(f"    near miss: stub {miss.get('stub')} {match} fails on {', '.join(miss.get('failed', []))}")
    raise AssertionError("\n".join(lines))
