"""The access log: one readable line per API call, on `mockzoho serve`'s stdout, whole from every worker."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import auth
from mockzoho.admin import access_log
from mockzoho.admin.access_log import log_call, one_line
from servers import Server, free_port, serve_command

ENTRY = {"id": 7, "time": 1796292000.1234, "method": "DELETE", "path": "/crm/v8/Leads/1/Attachments/2", "query": "",
         "headers": {}, "body_size": 0, "body_preview": "", "status": 200, "code": "SUCCESS", "duration_ms": 3.14,
         "org": "org1", "tag": None, "product": "crm", "matched": "route crm.delete_attachment", "unmatched": False}
# A line as `one_line` writes it; `matched` is left out by servers that do not journal it.
LINE = re.compile(r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<method>[A-Z]+) (?P<target>\S+) "
                  r"(?P<status>\d{1,3}) (?P<code>\S+) \d+\.\dms org=(?P<org>\S+) tag=(?P<tag>\S+)(?: (?P<matched>.+))?")


def test_a_call_in_one_line() -> None:
    assert one_line(ENTRY) == ("2026-12-03T10:00:00.123Z DELETE /crm/v8/Leads/1/Attachments/2 200 SUCCESS 3.1ms "
                               "org=org1 tag=- route crm.delete_attachment")


@pytest.mark.parametrize("changes,line", [
    ({"time": "2026-12-03T10:00:00.5Z", "query": "fields=id&page=2", "tag": "t1"},
     "2026-12-03T10:00:00.500Z DELETE /crm/v8/Leads/1/Attachments/2?fields=id&page=2 200 SUCCESS 3.1ms org=org1 "
     "tag=t1 route crm.delete_attachment"),
    ({"time": "2026-12-03T11:00:00.25+01:00", "status": 0, "code": "DROPPED", "matched": "fault 3"},
     "2026-12-03T10:00:00.250Z DELETE /crm/v8/Leads/1/Attachments/2 0 DROPPED 3.1ms org=org1 tag=- fault 3"),
    ({"path": "/crm/v8/Nope", "status": 404, "code": "INVALID_URL_PATTERN", "org": None, "matched": None,
      "unmatched": True},
     "2026-12-03T10:00:00.123Z DELETE /crm/v8/Nope 404 INVALID_URL_PATTERN 3.1ms org=- tag=- unmatched"),
    ({"matched": "proxy https://www.zohoapis.com"},
     "2026-12-03T10:00:00.123Z DELETE /crm/v8/Leads/1/Attachments/2 200 SUCCESS 3.1ms org=org1 tag=- "
     "proxy https://www.zohoapis.com"),
    # What a hostile client sends cannot split the line or pass for its separators.
    ({"path": "/crm/v8/a b?\n/é%", "query": "x=%20\r\n", "tag": "my tag", "code": None, "matched": "stub 1\nX"},
     "2026-12-03T10:00:00.123Z DELETE /crm/v8/a%20b%3F%0A/%C3%A9%25?x=%20%0D%0A 200 - 3.1ms org=org1 tag=my%20tag "
     "stub 1%0AX"),
])
def test_each_part_of_the_line(changes: dict, line: str) -> None:
    assert one_line({**ENTRY, **changes}) == line


def test_an_entry_without_the_newer_keys_leaves_them_out() -> None:
    older = {k: v for k, v in ENTRY.items() if k not in ("matched", "unmatched")}
    assert one_line(older) == ("2026-12-03T10:00:00.123Z DELETE /crm/v8/Leads/1/Attachments/2 200 SUCCESS 3.1ms "
                               "org=org1 tag=-")
    assert one_line({}) == "- - - - - - org=- tag=-"


def test_long_values_are_shortened_so_a_line_stays_under_pipe_buf() -> None:
    line = one_line({**ENTRY, "path": "/crm/" + "x" * 9000, "query": "q=" + "y" * 9000, "tag": "t" * 9000,
                     "org": "o" * 9000, "code": "C" * 9000, "method": "M" * 9000, "matched": "m " * 9000})
    assert len(line.encode()) < 4096 and "\n" not in line
    assert f"/crm/{'x' * 1019}...(+" in line and f"tag={'t' * 256}...(+8744) " in line


def test_log_call_formats_nothing_unless_a_handler_takes_it(monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    def formatted(entry: dict) -> str:
        raise AssertionError("formatted with nothing to take it")

    monkeypatch.setattr(access_log, "one_line", formatted)
    assert not logging.getLogger("mockzoho.access").isEnabledFor(logging.INFO)
    log_call(ENTRY)
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="mockzoho.access"):
        log_call(ENTRY)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("mockzoho.access", "INFO", one_line(ENTRY))]


def calls(url: str, count: int) -> list[tuple[str, str, str]]:
    """`count` calls on new connections, 8 at a time (both workers serve some): (method, path, tag) of each."""
    def one(i: int) -> tuple[str, str, str]:
        # Long paths (an unknown module, answered 400) make long lines, which would show any interleaving.
        path, tag = f"/crm/v8/Module{i}{'x' * 1500}", f"call-{i}"
        requests.get(url + path, headers={**auth(), "X-Mockzoho-Tag": tag, "Connection": "close"}, timeout=20)
        return "GET", path, tag

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_serve_prints_a_whole_line_per_call_on_stdout_from_every_worker(tmp_path: Path) -> None:
    port = free_port()
    with Server(serve_command("--port", str(port), "--workers", "2", "--state", str(tmp_path / "s.db")), port,
                errors=tmp_path / "stderr") as server:
        sent = calls(server.url, 120)
        assert requests.delete(server.url + "/crm/v8/Leads/2883756000000261075/Attachments/2883756000000261017",
                               headers=auth(), timeout=20).status_code == 200
        requests.get(f"{server.url}/__admin/requests", timeout=20)  # the control API's calls are not logged
        printed = server.printed()  # complete: a call's line is flushed before its answer is sent
    lines = printed.splitlines()
    assert printed.endswith("\n") and len(lines) == len(sent) + 1, printed[-2000:]
    found = [LINE.fullmatch(line) for line in lines]
    assert all(found), [line for line, match in zip(lines, found) if not match][:3]
    shown = sorted((m["method"], m["target"], m["tag"]) for m in found[:-1])  # (the delete is last: it came last)
    assert shown == sorted((method, path[:1024] + f"...(+{len(path) - 1024})", tag) for method, path, tag in sent)
    assert {(m["status"], m["code"], m["org"]) for m in found[:-1]} == {("400", "INVALID_MODULE", "zylker-us")}
    delete = found[-1]
    assert (delete["method"], delete["status"], delete["code"], delete["tag"]) == ("DELETE", "200", "SUCCESS", "-")
    assert "Booting worker" in (tmp_path / "stderr").read_text()  # gunicorn's own log stays on stderr


@pytest.mark.parametrize("flags,env", [(["--no-access-log"], {}), ([], {"MOCKZOHO_ACCESS_LOG": "false"})])
def test_serve_prints_nothing_without_the_access_log(flags: list[str], env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with Server(serve_command("--port", str(port), "--workers", "1", "--state", str(tmp_path / "s.db"), *flags),
                port, env=env, errors=tmp_path / "stderr") as server:
        calls(server.url, 3)
        assert requests.get(f"{server.url}/__admin/requests/count", timeout=20).json() == {"count": 3}
        assert server.printed() == ""
