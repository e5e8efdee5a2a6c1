"""mockzoho's benchmarks, each against a baseline measured in the same run; prints a table, writes results.md.

Run from the repository root, in the venv of the README's commands: `python bench/run.py` (about 6 minutes;
`--quick` for a rough pass). Needs `wrk` (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
TOKEN = "bench-token"
FIRST_ID, FIRST_RECORD, PER_RECORD = 10**14, 10**12, 1000  # below 2**53: wrk counts in doubles
MB = 1024 * 1024


@dataclass
class Figure:
    """One measured quantity: several runs, reported as median (min-max)."""

    name: str
    unit: str
    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def text(self) -> str:
        if not self.runs:
            return "n/a"
        digits = 0 if self.median >= 100 else 1 if self.median >= 10 else 2
        fmt = f"{{:.{digits}f}}"
        spread = f" ({fmt.format(min(self.runs))}-{fmt.format(max(self.runs))})" if len(self.runs) > 1 else ""
        return f"{fmt.format(self.median)}{spread} {self.unit}"


@dataclass
class Row:
    """A line of the table: the mock's figure, the baseline's, their ratio, and the target."""

    section: str
    what: str
    mock: Figure
    base: Figure | None
    target: str
    met: bool | None

    @property
    def ratio(self) -> str:
        if self.base is None or not self.base.runs or not self.mock.runs:
            return ""
        return f"{self.mock.median / self.base.median:.2f}x"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET", data: bytes | None = None,
        timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def generate_fixture(path: Path, attachments: int) -> None:
    """An org with `attachments` attachments, 1000 to a record (JSON, which is valid YAML)."""
    records = []
    for r in range((attachments + PER_RECORD - 1) // PER_RECORD):
        ids = range(r * PER_RECORD, min(attachments, (r + 1) * PER_RECORD))
        records.append({"module": "Leads", "id": str(FIRST_RECORD + r), "attachments": [
            {"id": str(FIRST_ID + a), "file_name": f"f{a}.txt", "size": 100} for a in ids]})
    document = {"orgs": [{"id": "bench", "users": [{"id": "1", "name": "Bench", "email": "bench@example.com"}],
                          "tokens": [{"token": TOKEN, "user": "1", "scopes": "ZohoCRM.modules.ALL,ZohoCRM.org.ALL"}],
                          "crm": {"records": records}}]}
    path.write_text(json.dumps(document))


class Server:
    """A server process started from a command line; `ready_seconds` is spawn to first correct answer."""

    def __init__(self, argv: list[str], port: int, probe: str, env: dict[str, str] | None = None) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.probe = probe
        started = time.perf_counter()
        self.process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = started + 120
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv} exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if get(self.url + probe, {"Authorization": f"Zoho-oauthtoken {TOKEN}"}, timeout=2)[0] == 200:
                    self.ready_seconds = time.perf_counter() - started
                    return
            except OSError:
                pass
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{argv} not ready in 120 s")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(p) for p in children]

    def rss_mb(self) -> float:
        """The largest resident set among the workers, in MB."""
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))))
        return max(sizes) / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def mock_server(state: Path, fixtures: Path | None, fresh: bool = True) -> Server:
    port = free_port()
    argv = [str(BIN / "mockzoho"), "serve", "--port", str(port), "--workers", "2", "--state", str(state)]
    argv += ["--fixtures", str(fixtures)] if fixtures else []
    argv += ["--fresh"] if fresh else []
    probe = "/crm/v8/org" if fixtures else "/__admin/health"
    return Server(argv, port, probe)


def bare_server(app: str = "bare:app") -> Server:
    """A baseline under the mock's gunicorn settings: the bare Flask app, or `raw:app` (no Flask)."""
    port = free_port()
    argv = [str(BIN / "gunicorn"), "--config", "python:mockzoho.server", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--chdir", str(BENCH), app]
    return Server(argv, port, "/crm/v8/org")


def wrk(url: str, mode: str, seconds: float, start: int = 0) -> tuple[float, float, float, int]:
    """Requests per second, p50 and p99 latency (ms) and the request count of one wrk run (2 threads, 8
    connections) of `bench/load.lua` in `mode`; deletes take attachments from the `start`-th generated one on."""
    env = {**os.environ, "MODE": mode, "FIRST_ID": str(FIRST_ID), "START": str(start),
           "FIRST_RECORD": str(FIRST_RECORD), "PER_RECORD": str(PER_RECORD), "THREADS": "2", "TOKEN": TOKEN}
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", str(BENCH / "load.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and mode == "delete":
        raise RuntimeError(f"{errors.group(1)} failed deletes:\n{out}")
    return rate, latency("50"), latency("99"), count


def peak_rss_during(server: Server, action: Callable[[], object]) -> tuple[float, float]:
    """The workers' largest RSS before, and at its peak while `action` runs (sampled every 5 ms)."""
    rest = server.rss_mb()
    peak, running = rest, True

    def sample() -> None:
        nonlocal peak
        while running:
            try:
                peak = max(peak, server.rss_mb())
            except (OSError, StopIteration):
                pass
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        running = False
        sampler.join()
    return rest, peak


def chunked_upload(url: str, size: int) -> int:
    """POST `size` bytes of multipart, chunked (no Content-Length to refuse it by); the status."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]), timeout=120)
    path = "/crm/v8/Leads/%d/Attachments" % FIRST_RECORD
    connection.putrequest("POST", path)
    connection.putheader("Authorization", f"Zoho-oauthtoken {TOKEN}")
    connection.putheader("Content-Type", "multipart/form-data; boundary=b")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = os.urandom(MB)

    def send(data: bytes) -> None:
        connection.send(b"%x\r\n%s\r\n" % (len(data), data))

    try:
        send(b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n')
        for _ in range(size // MB):
            send(chunk)
        send(b"\r\n--b--\r\n")
        connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before the end: the answer is waiting
    status = connection.getresponse().status
    connection.close()
    return status


def upload_and_download(url: str, size: int) -> None:
    boundary = "b"
    payload = os.urandom(size)
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fifty.bin"\r\n\r\n'.encode()
            + payload + f"\r\n--{boundary}--\r\n".encode())
    status, answer = get(f"{url}/crm/v8/Leads/{FIRST_RECORD}/Attachments",
                         {"Authorization": f"Zoho-oauthtoken {TOKEN}",
                          "Content-Type": f"multipart/form-data; boundary={boundary}"}, "POST", body, timeout=120)
    assert status == 200, answer
    new_id = json.loads(answer)["data"][0]["details"]["id"]
    request = urllib.request.Request(f"{url}/crm/v8/Leads/{FIRST_RECORD}/Attachments/{new_id}",
                                     headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        received = 0
        while chunk := response.read(MB):
            received += len(chunk)
    assert received == size


def in_process_rate(make: Callable[[], tuple[object, Iterator[str]]], requests: int) -> float:
    client, paths = make()
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
    began = time.perf_counter()
    for _ in range(requests):
        response = client.delete(next(paths), headers=headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.data
    return requests / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (rough figures)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/run.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    runs, seconds = (1, 3) if args.quick else (3, 6)
    # The baseline's Flask and gunicorn load from the bytecode pip compiled when installing them; the mock's
    # editable install compiles on first import, or on every start under PYTHONDONTWRITEBYTECODE (set here).
    compileall.compile_dir(ROOT / "mockzoho", quiet=1)
    compileall.compile_file(BENCH / "bare.py", quiet=1)
    compileall.compile_file(BENCH / "raw.py", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="mockzoho-bench-"))
    rows: list[Row] = []
    fixtures = {n: work / f"f{n}.json" for n in (1_000, 10_000, 100_000)}
    for n, path in fixtures.items():
        generate_fixture(path, n)
    try:
        rows += throughput(work, fixtures[100_000], runs, seconds)
        rows += ready_times(work, fixtures, runs)
        rows += resets(work, fixtures[100_000], runs)
        rows += memory(work, fixtures[1_000], runs)
        rows += in_process(work, fixtures[1_000], runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    breakdown = subprocess.run([sys.executable, str(BENCH / "breakdown.py")], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    report(rows, runs, seconds, breakdown)
    return 0 if all(r.met is not False for r in rows) else 1


def throughput(work: Path, fixture: Path, runs: int, seconds: float) -> list[Row]:
    """DELETE throughput and latency, the error path, and a mixed workload, against the bare app; and what
    gunicorn alone costs (a raw WSGI callable), to tell its share from Flask's and the mock's."""
    rows = []
    bare = bare_server()
    try:
        for label, mode in (("DELETE attachment (distinct ids)", "delete"),
                            ("DELETE unknown attachment (400)", "unknown"),
                            ("mixed upload / list / delete", "mixed")):
            # A fresh state for each workload, so that every delete finds its attachment.
            mock = mock_server(work / f"tp-{mode}.db", fixture)
            try:
                rows += workload(bare, mock, label, mode, runs, seconds)
            finally:
                mock.stop()
        raw = bare_server("raw:app")
        try:
            rate, _, _, cpu = workload(bare, raw, "raw WSGI app (no Flask) in the mock's place", "delete", runs, seconds)
            rows += [rate, cpu]  # its p50 and p99 tell nothing more
        finally:
            raw.stop()
    finally:
        bare.stop()
    return rows


def workload(bare: Server, mock: Server, label: str, mode: str, runs: int, seconds: float) -> list[Row]:
    rate_m, p50_m, p99_m = Figure(label, "req/s"), Figure(label, "ms"), Figure(label, "ms")
    rate_b, p50_b, p99_b = Figure(label, "req/s"), Figure(label, "ms"), Figure(label, "ms")
    cpu_m, cpu_b = Figure(label, "µs"), Figure(label, "µs")
    used = 0
    for _ in range(runs):
        for server, rate, p50, p99, cpu in ((bare, rate_b, p50_b, p99_b, cpu_b), (mock, rate_m, p50_m, p99_m, cpu_m)):
            spent = server.cpu_seconds()
            r, l50, l99, count = wrk(server.url, mode, seconds, used)
            cpu.runs.append((server.cpu_seconds() - spent) / count * 1e6)
            rate.runs.append(r)
            p50.runs.append(l50)
            p99.runs.append(l99)
            if server is mock:
                used += count + count // 10 + 100  # wrk's two threads need not stop at the same id
    main_row = label.startswith("DELETE attachment")
    ratio = rate_m.median / rate_b.median
    return [Row("1. throughput", f"{label}: req/s", rate_m, rate_b, ">= 0.8x" if main_row else "",
                ratio >= 0.8 if main_row else None),
            Row("1. throughput", f"{label}: p50", p50_m, p50_b, "", None),
            Row("1. throughput", f"{label}: p99", p99_m, p99_b, "<= 2x" if main_row else "",
                p99_m.median <= 2 * p99_b.median if main_row else None),
            Row("1. throughput", f"{label}: worker CPU per request", cpu_m, cpu_b, "", None)]


def ready_times(work: Path, fixtures: dict[int, Path], runs: int) -> list[Row]:
    """Spawn to first correct answer: bundled fixtures and generated ones, fresh state and restart."""
    rows = []
    bare = Figure("bare", "s")
    for _ in range(runs):
        server = bare_server()
        bare.runs.append(server.ready_seconds)
        server.stop()
    bundled = Figure("bundled", "s")
    for i in range(runs):
        server = mock_server(work / f"ready-b{i}.db", None)
        bundled.runs.append(server.ready_seconds)
        server.stop()
    rows.append(Row("2. ready time", "bundled fixtures, fresh state", bundled, bare, "<= 1.5x bare",
                    bundled.median <= 1.5 * bare.median))
    fresh_medians: dict[int, float] = {}
    for n, path in fixtures.items():
        fresh, restart = Figure(f"{n}", "s"), Figure(f"{n}", "s")
        for i in range(runs):
            server = mock_server(work / f"ready-{n}-{i}.db", path)
            fresh.runs.append(server.ready_seconds)
            server.stop()
            server = mock_server(work / f"ready-{n}-{i}.db", path, fresh=False)
            restart.runs.append(server.ready_seconds)
            server.stop()
        fresh_medians[n] = fresh.median
        target = "< 3 s" if n == 100_000 else ""
        rows.append(Row("2. ready time", f"{n:,} attachments, fresh state", fresh, bare, target,
                        fresh.median < 3 if n == 100_000 else None))
        rows.append(Row("2. ready time", f"{n:,} attachments, restart on the same state", restart, bare, "", None))
    # Cost per extra attachment from 10k to 100k, against the same from 1k to 10k: 1.0 is linear growth.
    growth = Figure("growth", "x", [((fresh_medians[100_000] - fresh_medians[10_000]) / 90_000)
                                    / ((fresh_medians[10_000] - fresh_medians[1_000]) / 9_000)])
    rows.append(Row("2. ready time", "cost per added attachment, 10k->100k over 1k->10k (1.0 = linear)", growth,
                    None, "<= 1.0 (no worse than linear, 10% noise allowed)", growth.median <= 1.1))
    return rows


def resets(work: Path, fixture: Path, runs: int) -> list[Row]:
    """POST /__admin/reset round trips, after some deletes, for the bundled fixtures and 100k attachments."""
    rows = []
    for label, path, limit in (("bundled fixtures", None, 0.050), ("100,000 attachments", fixture, 1.0)):
        server = mock_server(work / f"reset-{bool(path)}.db", path)
        figure = Figure(label, "ms")
        try:
            for i in range(max(runs, 9)):
                if path is not None:
                    for k in range(20):
                        get(f"{server.url}/crm/v8/Leads/{FIRST_RECORD}/Attachments/{FIRST_ID + k}",
                            {"Authorization": f"Zoho-oauthtoken {TOKEN}"}, "DELETE")
                began = time.perf_counter()
                status, _ = get(f"{server.url}/__admin/reset", {"Content-Type": "application/json"}, "POST", b"{}")
                assert status == 200
                figure.runs.append((time.perf_counter() - began) * 1000)
        finally:
            server.stop()
        rows.append(Row("3. reset", f"POST /__admin/reset, {label}", figure, None, f"< {limit * 1000:.0f} ms",
                        figure.median < limit * 1000))
    return rows


def memory(work: Path, fixture: Path, runs: int) -> list[Row]:
    """Worker RSS at rest, after 100k requests, while a 200 MB upload is refused, and around 50 MB up and down."""
    rows = []
    server = mock_server(work / "mem.db", fixture)
    try:
        rest = Figure("rest", "MB", [server.rss_mb()])
        total = 0
        while total < 100_000:
            total += wrk(server.url, "unknown", 10)[3]
        after = Figure("after", "MB", [server.rss_mb()])
        rows.append(Row("4. memory", "worker RSS at rest", rest, None, "", None))
        rows.append(Row("4. memory", f"worker RSS after {total:,} requests (journal capped at 10,000)", after, rest,
                        "no growth beyond the journal", after.median - rest.median < 20))
        refused, both = Figure("refused", "MB"), Figure("up+down", "MB")
        for _ in range(runs):
            base, peak = peak_rss_during(server, lambda: chunked_upload(server.url, 200 * MB))
            refused.runs.append(peak - base)
            base, peak = peak_rss_during(server, lambda: upload_and_download(server.url, 50 * MB))
            both.runs.append(peak - base)
        rows.append(Row("4. memory", "RSS above rest while a 200 MB upload is refused (413)", refused, None,
                        "<= 30 MB", refused.median <= 30))
        rows.append(Row("4. memory", "RSS above rest while 50 MB is uploaded and downloaded", both, None,
                        "<= 30 MB", both.median <= 30))
    finally:
        server.stop()
    return rows


def in_process(work: Path, fixture: Path, runs: int) -> list[Row]:
    """`app.test_client()` DELETE requests per second, against the bare app's."""
    sys.path.insert(0, str(BENCH))
    import bare  # noqa: E402 - the baseline app, beside this script
    from mockzoho.app import create_app

    requests = 1000
    mock, base = Figure("mock", "req/s"), Figure("bare", "req/s")
    for i in range(runs):
        def make_mock() -> tuple[object, Iterator[str]]:
            app = create_app({"state": work / f"inproc-{i}.db", "fixtures": fixture})
            return app.test_client(), iter(f"/crm/v8/Leads/{FIRST_RECORD}/Attachments/{FIRST_ID + k}"
                                           for k in range(requests))

        def make_bare() -> tuple[object, Iterator[str]]:
            return bare.app.test_client(), iter(f"/crm/v8/Leads/{FIRST_RECORD}/Attachments/{FIRST_ID + k}"
                                                for k in range(requests))

        mock.runs.append(in_process_rate(make_mock, requests))
        base.runs.append(in_process_rate(make_bare, requests))
    return [Row("5. in-process", "app.test_client() DELETE", mock, base, "", None)]


def report(rows: list[Row], runs: int, seconds: float, breakdown: str) -> None:
    machine = (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
               f"{platform.system()} {platform.release()}")
    lines = [
        "# mockzoho benchmarks",
        "",
        f"Machine: {machine}. Each figure is the median of {runs} run(s) (min-max in brackets); throughput runs "
        f"last {seconds:.0f} s with wrk (2 threads, 8 connections) on the same machine as the servers. Absolute "
        "figures are noisy and depend on the machine; the ratios against the baseline measured in the same run "
        "are what count. Baseline: `bench/bare.py`, a bare Flask app with the same routes and bodies under the "
        "same gunicorn settings (2 sync workers, `--config python:mockzoho.server`). The mock runs as the README "
        "deploys it (`mockzoho serve`, 2 workers, SQLite state, journal on). Both load their Python code from "
        "bytecode (the package is compiled first, as pip compiles the dependencies). Worker CPU per request is "
        "the workers' user + system time over the requests wrk counted.",
        "",
        "| | measure | mockzoho | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = "" if row.met is None else "yes" if row.met else "**no**"
        lines.append(f"| {row.section} | {row.what} | {row.mock.text()} | "
                     f"{row.base.text() if row.base else ''} | {row.ratio} | {row.target} | {met} |")
    lines += ["", "In-process breakdown (`bench/breakdown.py`, same run: each DELETE sent straight to the WSGI app, "
              "100,000 attachments):", "", breakdown.strip(), "", (BENCH / "analysis.md").read_text().strip()]
    text = "\n".join(lines) + "\n"
    print(text)
    (BENCH / "results.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
