"""Verifying calls (assert_called, assert_no_unmatched: their messages word for word), the stub helpers of the
client and the plugin, and `mockzoho stubs`."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from flask import Flask

from mockzoho.admin.access_log import one_line
from mockzoho.admin.client import AdminClient
from mockzoho.admin.verify import Expected, assert_called, assert_no_unmatched
from mockzoho.app import create_app
from mockzoho.cli import main
from servers import free_port, serve_in_thread

ATTACHMENTS = "/crm/v8/Leads/2883756000000261075/Attachments"


def entry(i: int, method: str, path: str, status: int = 200, code: str | None = "SUCCESS", org: str = "org1",
          tag: str | None = None, matched: str | None = None, **more: Any) -> dict[str, Any]:
    return {"id": i, "time": f"2026-12-03T10:00:0{i}.5Z", "method": method, "path": path, "query": "",
            "status": status, "code": code, "duration_ms": 2 + i / 10, "org": org, "tag": tag, "product": "crm",
            "matched": matched, "unmatched": matched is None, **more}


class FakeJournal:
    """The control API's journal over a list of entries (oldest first), filtered as the server filters it."""

    def __init__(self, *entries: dict[str, Any]) -> None:
        self.entries = list(entries)

    def requests(self, method: str | None = None, path: str | None = None, limit: int = 100,
                 **equal: Any) -> list[dict[str, Any]]:
        return [e for e in reversed(self.entries) if (method is None or e["method"] == method.upper())
                and (path is None or fnmatchcase(e["path"], path))
                and all(e[name] == value for name, value in equal.items())][:limit]

    def count(self, **filters: Any) -> int:
        return len(self.requests(**filters, limit=10**9))

    def unmatched(self, org: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return [e for e in self.requests(**({} if org is None else {"org": org}), limit=limit) if e["unmatched"]]


JOURNAL = FakeJournal(
    entry(1, "GET", "/crm/v8/Leads/1/Attachments/2", matched="route crm.download_attachment"),
    entry(2, "DELETE", "/crm/v8/Leads/1/Attachments/3", 400, "INVALID_DATA", matched="route crm.delete_attachment"),
    entry(3, "POST", "/crm/v8/Leads", 201, matched="route crm.insert_records"),
    entry(4, "DELETE", "/crm/v8/Leads/1/Attachments/2", org="org2", matched="route crm.delete_attachment"),
    entry(5, "GET", "/crm/v8/Nope", 404, "INVALID_URL_PATTERN", tag="t1",
          near_misses=[{"stub": 3, "failed": ["path"], "match": {"method": "GET", "path": "/crm/v8/Nop"}},
                       {"stub": 4, "failed": ["method", "org"], "match": {"method": "POST", "org": "org2"}}]),
)


def failure(expected: Expected, times: int | None = None, at_least: int | None = None) -> str:
    with pytest.raises(AssertionError) as failed:
        assert_called(JOURNAL, expected, times, at_least)
    return str(failed.value)


def test_a_missing_call_shows_the_closest_ones_and_what_differs_in_each() -> None:
    assert failure(Expected("DELETE", "/crm/v8/Leads/1/Attachments/2", org="org1")) == "\n".join([
        "expected a call of DELETE /crm/v8/Leads/1/Attachments/2 (org=org1), got none",
        "the closest calls journaled in org org1:",
        "  2026-12-03T10:00:02.500Z DELETE /crm/v8/Leads/1/Attachments/3 400 INVALID_DATA 2.2ms org=org1 tag=- "
        "route crm.delete_attachment",
        "    path segment 6 is 3, not 2",
        "  2026-12-03T10:00:01.500Z GET /crm/v8/Leads/1/Attachments/2 200 SUCCESS 2.1ms org=org1 tag=- "
        "route crm.download_attachment",
        "    method GET, not DELETE",
        "  2026-12-03T10:00:03.500Z POST /crm/v8/Leads 201 SUCCESS 2.3ms org=org1 tag=- route crm.insert_records",
        "    method POST, not DELETE; path /crm/v8/Leads, not /crm/v8/Leads/1/Attachments/2",
        "  2026-12-03T10:00:05.500Z GET /crm/v8/Nope 404 INVALID_URL_PATTERN 2.5ms org=org1 tag=t1 unmatched",
        "    method GET, not DELETE; path /crm/v8/Nope, not /crm/v8/Leads/1/Attachments/2"])


def test_too_few_calls_show_the_closest_others() -> None:
    assert failure(Expected("delete", "/crm/v8/Leads/*/Attachments/*", status=400), times=2) == "\n".join([
        "expected exactly 2 calls of DELETE /crm/v8/Leads/*/Attachments/* (status=400), got 1",
        "the closest calls journaled:",
        "  2026-12-03T10:00:04.500Z DELETE /crm/v8/Leads/1/Attachments/2 200 SUCCESS 2.4ms org=org2 tag=- "
        "route crm.delete_attachment",
        "    status 200, not 400",
        "  2026-12-03T10:00:01.500Z GET /crm/v8/Leads/1/Attachments/2 200 SUCCESS 2.1ms org=org1 tag=- "
        "route crm.download_attachment",
        "    method GET, not DELETE; status 200, not 400",
        "  2026-12-03T10:00:03.500Z POST /crm/v8/Leads 201 SUCCESS 2.3ms org=org1 tag=- route crm.insert_records",
        "    method POST, not DELETE; path /crm/v8/Leads, not /crm/v8/Leads/*/Attachments/*; status 201, not 400",
        "  2026-12-03T10:00:05.500Z GET /crm/v8/Nope 404 INVALID_URL_PATTERN 2.5ms org=org1 tag=t1 unmatched",
        "    method GET, not DELETE; path /crm/v8/Nope, not /crm/v8/Leads/*/Attachments/*; status 404, not 400"])
    assert failure(Expected(path="/crm/*", code="SUCCESS", tag="t1"), at_least=1).splitlines()[:4] == [
        "expected at least one call of * /crm/* (code=SUCCESS, tag=t1), got none",
        "the closest calls journaled:",  # as close as the next one, and newer
        "  2026-12-03T10:00:05.500Z GET /crm/v8/Nope 404 INVALID_URL_PATTERN 2.5ms org=org1 tag=t1 unmatched",
        "    code INVALID_URL_PATTERN, not SUCCESS"]


def test_too_many_calls_show_the_ones_that_matched() -> None:
    assert failure(Expected("DELETE"), times=0) == "\n".join([
        "expected no call of DELETE *, got 2",
        "the calls that matched:",
        "  2026-12-03T10:00:02.500Z DELETE /crm/v8/Leads/1/Attachments/3 400 INVALID_DATA 2.2ms org=org1 tag=- "
        "route crm.delete_attachment",
        "  2026-12-03T10:00:04.500Z DELETE /crm/v8/Leads/1/Attachments/2 200 SUCCESS 2.4ms org=org2 tag=- "
        "route crm.delete_attachment"])
    assert failure(Expected(org="org1"), times=1).splitlines()[:2] == [
        "expected exactly one call of * * (org=org1), got 4", "the calls that matched:"]
    many = FakeJournal(*(entry(i, "GET", f"/crm/v8/Leads/{i}") for i in range(1, 8)))
    with pytest.raises(AssertionError) as failed:
        assert_called(many, Expected("GET"), times=6)
    assert str(failed.value).splitlines()[:3] == [
        "expected exactly 6 calls of GET *, got 7", "the calls that matched (the newest 5):",
        "  2026-12-03T10:00:03.500Z GET /crm/v8/Leads/3 200 SUCCESS 2.3ms org=org1 tag=- unmatched"]


def test_nothing_journaled_is_said_so() -> None:
    assert failure(Expected("GET", org="nobody")) == ("expected a call of GET * (org=nobody), got none\n"
                                                      "nothing was journaled in org nobody")


def test_calls_as_expected_pass() -> None:
    assert_called(JOURNAL, Expected("DELETE", "/crm/v8/Leads/*/Attachments/*"), times=2)
    assert_called(JOURNAL, Expected(org="org1"), at_least=4)
    assert_called(JOURNAL, Expected("PATCH"), times=0)
    assert_called(JOURNAL, Expected(status=201, code="SUCCESS"))
    with pytest.raises(TypeError, match="^assert_called takes times or at_least, not both$"):
        assert_called(JOURNAL, Expected(), times=1, at_least=1)


def test_unmatched_calls_are_shown_with_their_near_misses() -> None:
    with pytest.raises(AssertionError) as failed:
        assert_no_unmatched(JOURNAL)
    assert str(failed.value) == """\
a call matched no route, stub or proxy:
  2026-12-03T10:00:05.500Z GET /crm/v8/Nope 404 INVALID_URL_PATTERN 2.5ms org=org1 tag=t1 unmatched
    near miss: stub 3 {"method":"GET","path":"/crm/v8/Nop"} fails on path
    near miss: stub 4 {"method":"POST","org":"org2"} fails on method, org"""
    assert_no_unmatched(JOURNAL, org="org2")
    lost = FakeJournal(*(entry(i, "GET", f"/x/{i}", 404, org="o") for i in range(1, 8)))
    with pytest.raises(AssertionError) as failed:
        assert_no_unmatched(lost, org="o")
    lines = str(failed.value).splitlines()
    assert lines[:2] == ["7 calls of org o matched no route, stub or proxy (the first 5):",
                         "  2026-12-03T10:00:01.500Z GET /x/1 404 SUCCESS 2.1ms org=o tag=- unmatched"]
    assert len(lines) == 6


# -- on a live server: the client and the plugin's helpers ---------------------------------------

def test_the_org_helpers_verify_its_own_calls(mockzoho_server, mockzoho_org) -> None:
    headers = mockzoho_org.headers()
    requests.get(f"{mockzoho_server.url}{ATTACHMENTS}?fields=id", headers=headers, timeout=10)
    requests.delete(f"{mockzoho_server.url}{ATTACHMENTS}/2883756000000261017", headers=headers, timeout=10)
    mockzoho_org.assert_called("DELETE", f"{ATTACHMENTS}/*", times=1, status=200, code="SUCCESS")
    mockzoho_org.assert_called(at_least=2)
    mockzoho_server.assert_called("GET", ATTACHMENTS, org=mockzoho_org.id)
    deleted, listed = mockzoho_org.requests()
    with pytest.raises(AssertionError) as failed:
        mockzoho_org.assert_called("DELETE", f"{ATTACHMENTS}/2883756000000261018")
    assert str(failed.value) == "\n".join([
        f"expected a call of DELETE {ATTACHMENTS}/2883756000000261018 (org={mockzoho_org.id}), got none",
        f"the closest calls journaled in org {mockzoho_org.id}:",
        f"  {one_line(deleted)}", "    path segment 6 is 2883756000000261017, not 2883756000000261018",
        f"  {one_line(listed)}",
        f"    method GET, not DELETE; path {ATTACHMENTS}, not {ATTACHMENTS}/2883756000000261018"])
    with pytest.raises(AssertionError, match=r"^expected no call of DELETE \* \(org=.*\), got 1\n"):
        mockzoho_org.assert_called("DELETE", times=0)


def test_the_org_helpers_stub_and_find_unmatched_calls(mockzoho_server, mockzoho_org) -> None:
    # Paths no route serves: what answers them is the stub, or nothing.
    parts, other = "/crm/v8/Widgets/1/Parts/2/All", "/crm/v8/Widgets/1/Parts/2/Any"
    stub = mockzoho_org.add_stub({"match": {"method": "GET", "path": "/crm/v8/Widgets/*/Parts/*/All"},
                                  "respond": {"status": 200, "json": {"parts": []}}, "org": "elsewhere"})
    [listed] = mockzoho_org.stubs()
    assert (listed["id"], listed["org"], listed["hits"]) == (stub, mockzoho_org.id, 0)
    assert stub in [s["id"] for s in mockzoho_server.stubs()]
    answer = requests.get(mockzoho_server.url + parts, headers=mockzoho_org.headers(), timeout=10)
    assert (answer.status_code, answer.json()) == (200, {"parts": []})
    mockzoho_org.assert_called("GET", parts, times=1, status=200)
    [served] = mockzoho_org.requests()
    assert (served["matched"], served["unmatched"]) == (f"stub {stub}", False)
    mockzoho_org.assert_no_unmatched()

    requests.get(mockzoho_server.url + other, headers=mockzoho_org.headers(), timeout=10)
    [unmatched] = mockzoho_org.unmatched()
    assert (unmatched["path"], unmatched["unmatched"], unmatched["matched"]) == (other, True, None)
    [miss] = [miss for miss in unmatched["near_misses"] if miss["stub"] == stub]
    assert "path" in miss["failed"] and "method" not in miss["failed"]
    with pytest.raises(AssertionError) as failed:
        mockzoho_org.assert_no_unmatched()
    lines = str(failed.value).splitlines()
    assert lines[:2] == [f"a call of org {mockzoho_org.id} matched no route, stub or proxy:",
                         f"  {one_line(unmatched)}"]
    assert (f"    near miss: stub {stub} {json.dumps(miss['match'], separators=(',', ':'))} fails on "
            f"{', '.join(miss['failed'])}") in lines
    mockzoho_org.remove_stub(stub)
    assert mockzoho_org.stubs() == []
    mockzoho_org.add_stub({"match": {"path": "/crm/v8/Gadgets/*/All"}, "respond": {"status": 204}})
    assert mockzoho_org.clear_stubs() == 1


# -- mockzoho stubs ---------------------------------------------------------------------------

def stubs_cli(url: str, *flags: str, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(["stubs", "--url", url, *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_stubs_command_adds_lists_exports_removes_and_clears(app: Flask, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    spec = {"match": {"method": "GET", "path": "/crm/v8/Widgets", "query": {"page": "1"}},
            "respond": {"status": 200, "json": {"widgets": ["é"]}}, "org": "zylker-us", "times": 3}
    (tmp_path / "stub.json").write_text(json.dumps({"match": {"path": "/bigin/v2/Gadgets"},
                                                    "respond": {"status": 204}, "auth": False}))
    with serve_in_thread(app) as url:
        added = []
        for given in (json.dumps(spec), f"@{tmp_path / 'stub.json'}"):
            code, out, err = stubs_cli(url, "--add", given, capsys=capsys)
            assert (code, err, list(json.loads(out))) == (0, "", ["id"])
            added.append(json.loads(out)["id"])
        code, out, _ = stubs_cli(url, "--list", capsys=capsys)
        listed = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and [(s["id"], s["source"], s["hits"]) for s in listed] == [(i, "api", 0) for i in added]
        code, out, _ = stubs_cli(url, "--export", capsys=capsys)
        exported_text, exported = out, yaml.safe_load(out)
        assert code == 0 and list(exported) == ["stubs"] and "id:" not in out and "é" in out
        assert exported["stubs"] == [{k: s[k] for k in ("match", "respond", "org", "times", "auth")
                                      if s.get(k) is not None} for s in listed]
        assert exported["stubs"][0]["respond"]["json"] == {"widgets": ["é"]} and exported["stubs"][1]["auth"] is False
        code, out, _ = stubs_cli(url, "--export", "--org", "zylker-us", capsys=capsys)
        assert [s["match"]["path"] for s in yaml.safe_load(out)["stubs"]] == ["/crm/v8/Widgets"]
        assert stubs_cli(url, "--remove", str(added[0]), capsys=capsys) == (0, '{"deleted": 1}\n', "")
        code, _, err = stubs_cli(url, "--remove", str(added[0]), capsys=capsys)
        assert code == 1 and err.startswith("mockzoho stubs: ")
        assert stubs_cli(url, "--clear", capsys=capsys) == (0, '{"deleted": 1}\n', "")
        assert stubs_cli(url, "--export", capsys=capsys) == (0, "stubs: []\n", "")
        code, _, err = stubs_cli(url, "--add", '{"match": {"method": "GET"}, "respond": {"status": 99}}',
                                 capsys=capsys)
        assert code == 1 and err.startswith("mockzoho stubs: the stub does not fit: "), err
        assert "respond.status: " in err and "--status" not in err
    # What --export prints is a fixtures file's `stubs:`: saved in a fixtures folder, its stubs are the seeded ones.
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "org.yaml").write_text('orgs: [{id: zylker-us, users: [{id: "1", name: Cy, email: cy@x.example}]}]\n')
    (fixtures / "recorded.yaml").write_text(exported_text)
    seeded = create_app({"state": tmp_path / "seeded.db", "fixtures": fixtures})
    with serve_in_thread(seeded) as url:
        kept = AdminClient(url).stubs()
    assert [({k: stub[k] for k in given}, stub["source"]) for stub, given in zip(kept, exported["stubs"])] == [
        (given, "fixtures") for given in exported["stubs"]]


@pytest.mark.parametrize("flags,line", [
    (["--add", "{"], "argument --add: JSON is needed (Expecting property name enclosed in double quotes: line 1 "
                     "column 2 (char 1))"),
    (["--add", "@/nonexistent/stub.json"], "argument --add: cannot read /nonexistent/stub.json: No such file or "
                                           "directory"),
    (["--add", "{}", "--org", "o"], "--org goes with --list, --clear or --export (a stub's own org is in its JSON)"),
    (["--remove", "3", "--org", "o"], "--org goes with --list, --clear or --export (a stub's own org is in its JSON)"),
])
def test_the_stubs_command_refuses_what_it_can_before_calling(flags: list[str], line: str,
                                                              capsys: pytest.CaptureFixture) -> None:
    assert stubs_cli(f"http://127.0.0.1:{free_port()}", *flags, capsys=capsys) == (2, "", f"mockzoho stubs: {line}\n")


@pytest.mark.parametrize("flags,line", [
    ([], "one of the arguments --list --add --remove --clear --export is required"),
    (["--list", "--clear"], "argument --clear: not allowed with argument --list"),
    (["--remove", "0"], "argument --remove: a whole number from 1 to 9223372036854775807 is needed, not '0'"),
])
def test_the_stubs_command_takes_one_action(flags: list[str], line: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["stubs", *flags])
    assert (exited.value.code, capsys.readouterr().err) == (2, f"mockzoho stubs: {line} (see mockzoho stubs --help)\n")
