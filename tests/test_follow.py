"""`mockzoho requests --follow`: the last calls, then each new one as it is journaled, against a live server."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import pytest
import requests
from flask import Flask

from conftest import auth
from mockzoho.admin.access_log import one_line
from mockzoho.admin.client import AdminClient
from mockzoho.cli import main
from servers import end, free_port, serve_in_thread

LEAD = "/crm/v8/Leads/2883756000000261075"
CLI = str(Path(sys.executable).parent / "mockzoho")


class Follower:
    """`mockzoho requests --follow ...` in a process of its own, its stdout read line by line as it prints."""

    def __init__(self, url: str, *flags: str) -> None:
        self.process = subprocess.Popen([CLI, "requests", "--follow", "--url", url, *flags], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\n"))

    def next(self, count: int, timeout: float = 10) -> list[str]:
        """The next `count` lines it prints (a failure, with what it printed, if they do not come in time or it
        exits first)."""
        got, deadline = [], time.monotonic() + timeout
        while len(got) < count:
            try:
                got.append(self.lines.get(timeout=0.05))
            except queue.Empty:
                if self.process.poll() is not None:
                    self.reader.join(timeout=5)  # what it printed before it exited
                    if not self.lines.empty():
                        continue
                if time.monotonic() > deadline or self.process.poll() is not None:
                    pytest.fail(f"{len(got)} of {count} lines: {got}; stderr: {self.stop()[1]!r}")
        return got

    def quiet_for(self, seconds: float) -> bool:
        """True if it printed nothing more for `seconds` (more than one poll)."""
        try:
            extra = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        pytest.fail(f"printed more: {extra!r}")

    def stop(self) -> tuple[int, str]:
        """Ctrl-C; its exit status and what it said on stderr."""
        return end(self.process, signal.SIGINT, 10), self.process.stderr.read()  # type: ignore[union-attr]


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


def call(url: str, method: str = "GET", path: str = f"{LEAD}/Attachments?fields=id", tag: str = "t") -> None:
    requests.request(method, url + path.partition("?")[0], params=path.partition("?")[2] or None,
                     headers={**auth(), "X-Mockzoho-Tag": tag}, timeout=10)


def journal(url: str, **filters: object) -> list[dict]:
    """The journal's entries, oldest first."""
    return list(reversed(AdminClient(url).requests(limit=1000, **filters)))


def test_it_prints_the_last_ten_then_each_new_call_then_ends_quietly_on_ctrl_c(server: str) -> None:
    for i in range(12):
        call(server, path=f"{LEAD}/Attachments?fields=id&page={i + 1}")
    follower = Follower(server)
    assert follower.next(10) == [one_line(e) for e in journal(server)[-10:]]
    call(server, "DELETE", f"{LEAD}/Attachments/2883756000000261017")
    call(server, path="/crm/v8/Nope")
    new = follower.next(2)
    assert new == [one_line(e) for e in journal(server)[-2:]]
    assert new[0].split()[1:5] == ["DELETE", f"{LEAD}/Attachments/2883756000000261017", "200", "SUCCESS"]
    assert follower.quiet_for(0.6)
    assert follower.stop() == (0, "")


def test_json_lines_with_the_filters_and_the_limit(server: str) -> None:
    for tag in ("mine", "other", "mine", "mine"):
        call(server, tag=tag)
    follower = Follower(server, "--json", "--tag", "mine", "--method", "get", "--limit", "2")
    assert [json.loads(line) for line in follower.next(2)] == journal(server, tag="mine")[-2:]
    call(server, tag="other")
    call(server, "DELETE", f"{LEAD}/Attachments/2883756000000261017", tag="mine")
    call(server, tag="mine")
    [line] = follower.next(1)
    assert json.loads(line) == journal(server, tag="mine", method="GET")[-1]
    assert follower.quiet_for(0.6)
    assert follower.stop() == (0, "")


def test_nothing_matching_yet_then_the_first_match(server: str) -> None:
    call(server)
    follower = Follower(server, "--code", "INVALID_URL_PATTERN")
    assert follower.quiet_for(0.6)
    call(server, path="/crm/v8/Leads/1/Nope/2")
    assert follower.next(1) == [one_line(journal(server, code="INVALID_URL_PATTERN")[-1])]
    assert follower.stop() == (0, "")


def test_a_reset_journal_is_followed_from_its_first_entry(server: str) -> None:
    for _ in range(5):
        call(server)
    follower = Follower(server)
    assert len(follower.next(5)) == 5
    AdminClient(server).reset()  # the journal is emptied: its ids start from 1 again
    call(server, "DELETE", f"{LEAD}/Attachments/2883756000000261017")
    call(server)
    assert follower.next(2) == [one_line(e) for e in journal(server)]
    assert follower.stop() == (0, "")


def test_a_server_that_goes_away_is_said_plainly(app: Flask) -> None:
    with serve_in_thread(app) as url:
        call(url)
        follower = Follower(url)
        assert len(follower.next(1)) == 1
    assert follower.process.wait(timeout=10) == 1
    code, said = follower.stop()
    # Refused, or reset if it went while answering a poll.
    assert re.fullmatch(f"mockzoho requests: the server stopped answering: no mockzoho answers at {re.escape(url)} "
                        r"\(\[Errno \d+\] Connection (refused|reset by peer)\): is `mockzoho serve` running\?\n",
                        said), said


def test_no_server_at_the_start_is_said_as_the_listing_says_it(capsys: pytest.CaptureFixture) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    assert main(["requests", "--follow", "--url", nobody]) == 2
    assert capsys.readouterr().err == (f"mockzoho requests: no mockzoho answers at {nobody} ([Errno 111] Connection "
                                       "refused): is `mockzoho serve` running?\n")


@pytest.mark.parametrize("argv,line", [
    (["requests", "--follow", "--count"], "argument --count: not allowed with argument --follow"),
    (["requests", "--since", "yesterday"],
     "argument --since: an ISO 8601 date-time is needed, e.g. 2027-01-01T00:00:00Z, not 'yesterday'"),
    (["requests", "--follow", "--limit", "0"], "argument --limit: a whole number from 1 to 100000 is needed, not '0'"),
])
def test_a_bad_follow_flag_is_refused_in_one_line(argv: list[str], line: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert (exited.value.code, capsys.readouterr().err) == (2, f"mockzoho requests: {line} (see mockzoho requests "
                                                               "--help)\n")


def test_json_goes_with_follow(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("MOCKZOHO_URL", f"http://127.0.0.1:{free_port()}")  # never called
    assert main(["requests", "--json"]) == 2
    assert capsys.readouterr().err == "mockzoho requests: --json goes with --follow (the listing is JSON already)\n"


def test_the_listing_takes_since(server: str, capsys: pytest.CaptureFixture) -> None:
    call(server)
    time.sleep(0.02)
    call(server, tag="later")
    first = datetime.fromisoformat(journal(server)[0]["time"])
    assert main(["requests", "--url", server, "--since", (first + timedelta(milliseconds=10)).isoformat()]) == 0
    assert [json.loads(line)["tag"] for line in capsys.readouterr().out.splitlines()] == ["later"]
