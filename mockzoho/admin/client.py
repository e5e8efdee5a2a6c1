"""A small client of the control API, for the `mockzoho` command and the pytest plugin (standard library only)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from . import verify


class AdminClientError(Exception):
    """The control API could not be reached, or refused the call; `status` is 0 when it was not reached."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        self.status, self.body = status, body
        super().__init__(message)


NOT_JSON = object()


def problem_places(details: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The control API's problems by field (nested as its body is), each under its path in the body
    (`respond.status`); a problem of a whole object (`_schema`) under that object's path ("" for the body)."""
    found: dict[str, str] = {}
    for name, problems in details.items():
        place = prefix.rstrip(".") if name == "_schema" else f"{prefix}{name}"
        if isinstance(problems, dict):
            found.update(problem_places(problems, f"{place}." if place else ""))
        else:
            found[place] = " ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
    return found


def _decoded(payload: bytes) -> Any:
    """The JSON of an answer's body (None for an empty one), or NOT_JSON."""
    try:
        return json.loads(payload or b"null")
    except ValueError:
        return NOT_JSON


def _from_control_api(status: int, answer: Any) -> bool:
    """Every answer of the control API is JSON, and each of its errors names its kind: anything else is another
    server answering (or a mockzoho under another path, in Zoho's envelope)."""
    if status >= 400:
        return isinstance(answer, dict) and "error" in answer
    return answer is not NOT_JSON


class AdminClient:
    """Calls a running mockzoho's control API."""

    def __init__(self, url: str, admin_token: str = "", timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
             raw: bytes | None = None) -> Any:
        """One control-API call; the decoded JSON answer."""
        params = {k: v for k, v in (query or {}).items() if v is not None}
        try:
            url = f"{self.url}/__admin{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
            data = raw if raw is not None else None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("Content-Type", "application/yaml" if raw is not None else "application/json")
            if self.admin_token:
                request.add_header("Authorization", f"Bearer {self.admin_token}")
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            raise AdminClientError(0, f"no mockzoho answers at {self.url} ({getattr(exc, 'reason', exc)}): "
                                      "is `mockzoho serve` running?") from None
        except UnicodeError:  # a token or URL a header cannot carry, a value that is not text (bytes from argv)
            raise AdminClientError(0, "the call cannot be sent: the URL, the admin token or a value is not text "
                                      "HTTP can carry (the token must be printable ASCII)") from None
        answer = _decoded(payload)
        if not _from_control_api(status, answer):
            raise AdminClientError(status, f"what answers at {self.url} is not mockzoho's control API "
                                           f"({method} /__admin{path}: {status})")
        if status == 401:
            raise AdminClientError(401, "the admin token was refused" if self.admin_token else
                                        "this server's control API needs its admin token", answer)
        if status >= 400:
            raise AdminClientError(status, answer.get("message", str(answer)), answer)
        return answer

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/health")

    def reset(self, org: str | None = None) -> dict[str, Any]:
        return self.call("POST", "/reset", {"org": org} if org else {})

    def put_fixtures(self, yaml_text: str | bytes) -> dict[str, Any]:
        raw = yaml_text.encode() if isinstance(yaml_text, str) else yaml_text
        return self.call("PUT", "/fixtures", raw=raw)

    def create_org(self, template: str | None = None, empty: bool = False) -> dict[str, Any]:
        return self.call("POST", "/orgs", {k: v for k, v in {"from": template, "empty": empty}.items() if v})

    def delete_org(self, org: str) -> dict[str, Any]:
        return self.call("DELETE", f"/orgs/{urllib.parse.quote(org)}")

    def mint_token(self, org: str, user: str, scopes: list[str], expires_in: int = 3600) -> dict[str, Any]:
        return self.call("POST", "/tokens", {"org": org, "user": user, "scopes": scopes, "expires_in": expires_in})

    def clock(self) -> dict[str, Any]:
        return self.call("GET", "/clock")

    def set_clock(self, now: str, frozen: bool = True) -> dict[str, Any]:
        return self.call("PUT", "/clock", {"now": now, "frozen": frozen})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.call("POST", "/clock/advance", {"seconds": seconds})

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self.call("GET", "/requests", query=filters)["requests"]

    def count(self, **filters: Any) -> int:
        return self.call("GET", "/requests/count", query=filters)["count"]

    def clear_requests(self, org: str | None = None, tag: str | None = None) -> int:
        return self.call("DELETE", "/requests", query={"org": org, "tag": tag})["deleted"]

    def add_fault(self, spec: dict[str, Any]) -> int:
        return self.call("POST", "/faults", spec)["id"]

    def fail_next(self, times: int = 1, code: str = "INTERNAL_ERROR", **match: Any) -> int:
        """Fail the next `times` matching calls with a Zoho error `code`, then succeed again."""
        return self.add_fault({"match": match, "respond": {"code": code}, "times": times})

    def faults(self, org: str | None = None) -> list[dict[str, Any]]:
        return self.call("GET", "/faults", query={"org": org})["faults"]

    def clear_faults(self, org: str | None = None) -> int:
        return self.call("DELETE", "/faults", query={"org": org})["deleted"]

    def set_limits(self, org: str, **limits: Any) -> dict[str, Any]:
        return self.call("PUT", f"/limits/{urllib.parse.quote(org)}", limits)

    def stubs(self, org: str | None = None) -> list[dict[str, Any]]:
        return self.call("GET", "/stubs", query={"org": org})["stubs"]

    def add_stub(self, spec: dict[str, Any]) -> int:
        """Add a stub (`{"match": {...}, "respond": {...}, "org", "times", "auth"}`: docs/admin-api.md); its id."""
        return self.call("POST", "/stubs", spec)["id"]

    def remove_stub(self, stub_id: int) -> None:
        self.call("DELETE", f"/stubs/{int(stub_id)}")

    def clear_stubs(self, org: str | None = None) -> int:
        return self.call("DELETE", "/stubs", query={"org": org})["deleted"]

    def unmatched(self, org: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The calls no route, stub or proxy answered, each with its `near_misses` among the stubs."""
        return self.call("GET", "/requests/unmatched", query={"org": org, "limit": limit})["requests"]

    def assert_called(self, method: str | None = None, path: str | None = None, times: int | None = None,
                      at_least: int | None = None, org: str | None = None, tag: str | None = None,
                      status: int | None = None, code: str | None = None) -> None:
        """AssertionError unless such calls (`path` a glob) were journaled `times` times, or `at_least` times, or
        (neither given) at all; it shows the closest calls that were."""
        __tracebackhide__ = True
        verify.assert_called(self, verify.Expected(method, path, status, code, org, tag), times, at_least)

    def assert_no_unmatched(self, org: str | None = None) -> None:
        """AssertionError if a call (of `org`, if given) matched no route, stub or proxy; it shows each one."""
        __tracebackhide__ = True
        verify.assert_no_unmatched(self, org)
