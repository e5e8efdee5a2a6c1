"""The raw-socket fuzz pass (tests/rawfuzz.py) against a real `mockzoho serve`: no 5xx, every answer JSON
where it must be, no worker restarted, the fixtures untouched."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import rawfuzz
from servers import Server, free_port, serve_command

REQUESTS, SEED = 3000, 1


def test_the_sequence_is_the_seeds_alone() -> None:
    first, again, other = rawfuzz.generate(SEED, 500), rawfuzz.generate(SEED, 500), rawfuzz.generate(SEED + 1, 500)
    assert first == again and first != other
    families = Counter(case.family for case in first)
    assert set(families) == {"zoho", "oauth", "cosmos", "admin", "garbage"}, families
    labels = {label.split(":")[0] for case in first for label in case.labels}
    assert {"framing", "header", "line", "signed", "sign", "json", "multipart"} <= labels, labels


def exceptions_logged(log: Path) -> str:
    """The distinct exceptions the server logged, to say why a request failed."""
    found = re.findall(r"^(\w[\w.]*(?:Error|Exception|Data|Size|Terminator|Extension|Header)\b.*)$",
                       log.read_text(errors="replace"), re.M)
    return "\n".join(sorted(set(found))[:40])


def test_a_seeded_raw_socket_fuzz_pass_finds_no_5xx_and_no_non_json(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    server = Server(serve_command("--port", str(port), "--workers", "2", "--state", str(tmp_path / "state.db")),
                    port, log=log)
    with server:
        assert server.process is not None
        # Four connections: enough to keep both workers busy without starving servers of tests run beside it.
        summary = rawfuzz.run(server.url, REQUESTS, SEED, concurrency=4, master=server.process.pid)
    report = rawfuzz.report(summary, show=3) + "\nserver exceptions:\n" + exceptions_logged(log)
    assert len(summary.results) == REQUESTS, report
    assert summary.workers_before and len(summary.workers_before) == 2, report
    assert summary.count("5xx") == 0, report
    assert summary.count("non-json") == 0, report
    assert summary.count("no-answer") == 0, report
    assert not summary.restarted, report
    assert summary.digest_before == summary.digest_after, report
