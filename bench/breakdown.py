"""Where a DELETE's time goes, in-process (no HTTP server, no load generator): microseconds per request for
the mock and the bare app, in one process and in two at once on one state file (what two gunicorn workers
are), and the time the mock spends taking and holding the write lock. `--profile` adds cProfile's top.

Run from the repository root: `python bench/breakdown.py` (about 30 s).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare  # noqa: E402 - the baseline app, beside this script
from run import FIRST_ID, FIRST_RECORD, PER_RECORD, TOKEN, generate_fixture  # noqa: E402

from werkzeug.test import EnvironBuilder  # noqa: E402

from mockzoho.app import create_app  # noqa: E402
from mockzoho.store import core  # noqa: E402

ENVIRON = EnvironBuilder(method="DELETE", base_url="http://127.0.0.1:8000",
                         headers={"User-Agent": "wrk", "Authorization": f"Zoho-oauthtoken {TOKEN}"}).get_environ()
LOCK = {"wait": 0.0, "held": 0.0}


def timed_writer(self: core.Core) -> Iterator[Any]:
    """`Core._writer`, timing the wait for the write lock and the time it is held."""
    began = time.perf_counter()
    with ORIGINAL_WRITER(self) as conn:
        locked = time.perf_counter()
        try:
            yield conn
        finally:
            LOCK["held"] += time.perf_counter() - locked
            LOCK["wait"] += locked - began


ORIGINAL_WRITER = core.Core._writer


UNKNOWN_ID = 900_000_000_000_000  # where bench/load.lua's unknown attachments start


def deleter(app: Callable, unknown: bool = False) -> Callable[[int], None]:
    """A function sending the DELETE of the k-th generated attachment (or of the k-th unknown one, the error
    path) straight to the WSGI app."""
    first, expected = (UNKNOWN_ID, "400") if unknown else (FIRST_ID, "200")
    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        start_response.status = status  # type: ignore[attr-defined]

    def delete(k: int) -> None:
        environ = {**ENVIRON, "wsgi.input": io.BytesIO(b""),
                   "PATH_INFO": f"/crm/v8/Leads/{FIRST_RECORD + k // PER_RECORD}/Attachments/{first + k}"}
        b"".join(app(environ, start_response))
        assert start_response.status.startswith(expected), start_response.status  # type: ignore[attr-defined]
    return delete


def per_request(delete: Callable[[int], None], start: int, count: int) -> float:
    """Microseconds per request over `count` deletes from the `start`-th attachment on."""
    began = time.perf_counter()
    for k in range(start, start + count):
        delete(k)
    return (time.perf_counter() - began) / count * 1e6


def in_two_processes(delete: Callable[[int], None], count: int) -> tuple[float, dict[str, float]]:
    """Both processes delete `count` attachments at once; this one's figures (µs per request)."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        per_request(delete, 50_000, count)
        os.write(write, b"x")
        os._exit(0)
    for key in LOCK:
        LOCK[key] = 0.0
    micros = per_request(delete, 70_000, count)
    os.read(read, 1)
    os.waitpid(child, 0)
    return micros, {key: value / count * 1e6 for key, value in LOCK.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000, choices=range(100, 10_001), metavar="100..10000")
    parser.add_argument("--unknown", action="store_true", help="delete attachments that do not exist (the mock's "
                        "error path; the bare app answers as for any delete)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top 30 (one process)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mockzoho-profile-"))
    generate_fixture(work / "f.json", 100_000)
    core.Core._writer = contextmanager(timed_writer)  # type: ignore[method-assign]
    mock = deleter(create_app({"state": work / "s.db", "fixtures": work / "f.json"}), args.unknown)
    base = deleter(bare.app)
    n = args.requests
    per_request(mock, 0, 200)  # warm up
    per_request(base, 0, 200)
    for key in LOCK:
        LOCK[key] = 0.0
    rows = {"one process": (per_request(mock, 1000, n), per_request(base, 1000, n),
                            {key: value / n * 1e6 for key, value in LOCK.items()})}
    mock_two, lock_two = in_two_processes(mock, n)
    rows["two processes at once"] = (mock_two, in_two_processes(base, n)[0], lock_two)
    print("| DELETE, in-process | mock µs/request | bare µs/request | ratio | mock: waiting for the write lock | "
          "holding it |\n|---|---|---|---|---|---|")
    for label, (m, b, lock) in rows.items():
        print(f"| {label} | {m:.0f} | {b:.0f} | {m / b:.2f}x | {lock['wait']:.0f} µs | {lock['held']:.0f} µs |")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(per_request, mock, 20_000, n)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        if os.environ.get("CALLERS"): pstats.Stats(profiler).print_callers(os.environ["CALLERS"])
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
