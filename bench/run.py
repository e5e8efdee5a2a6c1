"""mockzoho's benchmarks, each against a baseline measured in the same run; prints a table, writes results.md.

Run from the repository root, in the venv of the README's commands: `python bench/run.py` (about 9 minutes;
`--quick` for a rough pass, `--only SECTION,...` for some sections). Needs `wrk` (Debian: `apt-get install wrk`).
The peers (WireMock, json-server) are measured where installed beforehand, see bench/README.md; nothing is fetched.
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
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from mockzoho import server as served
from mockzoho.zoho.errors import CONTENT_TYPE

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
TOKEN = "bench-token"
FIRST_ID, FIRST_RECORD, PER_RECORD = 10**14, 10**12, 1000  # below 2**53: wrk counts in doubles
MB = 1024 * 1024
WORKERS, WRK_THREADS, WRK_CONNECTIONS = 2, 2, 8
PEERS = BENCH / "peers" / "node_modules"  # `npm install --prefix bench/peers ...` puts the peers there
PEERS_INSTALL = "npm install --prefix bench/peers wiremock@3 json-server@0.17"
SECTIONS = ("throughput", "peers", "idle", "ready", "reset", "memory", "in-process", "records", "postgres")
RECORD_MODES = ("record", "page", "insert")  # load.lua's modes on the generated leads
MOONSHOT = "moonshot: mock's DELETE unknown attachment, keep-alive, req/s against WireMock's"
MOONSHOT_TARGET = ">= 1x (moonshot)"
HELD = 32  # idle connections held open in section idle, and as many half-open ones
ANSWER_TIMEOUT_MS = 2000  # how long the idle section waits for an answer
HALF_HEAD = b"GET /crm/v8/org HTTP/1.1\r\nHost: x\r\n"  # a request head without the blank line that ends it


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
    """A line of the table: the figure measured (the mock's, or a peer's), the baseline's, their ratio, and the
    target; `section` is set by the section's place in SECTIONS."""

    what: str
    figure: Figure
    base: Figure | None
    target: str
    met: bool | None
    section: str = ""

    @property
    def ratio(self) -> str:
        if self.base is None or not self.base.runs or not self.figure.runs:
            return ""
        return f"{self.figure.median / self.base.median:.2f}x"


@dataclass
class Load:
    """One server's figures under one wrk workload."""

    rate: Figure
    p50: Figure
    p99: Figure
    cpu: Figure


class NotRun(Exception):
    """A peer that cannot run here; the message says why."""


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
    """A server process started from a command line; `ready_seconds` is spawn to first correct answer. `route`,
    if given, is where wrk's unknown deletes go instead of the Zoho attachment path (a peer's own route)."""

    def __init__(self, argv: list[str], port: int, probe: str, env: dict[str, str] | None = None,
                 route: str = "") -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.probe, self.route = probe, route
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
        """gunicorn's workers; a peer that forks none (a JVM, node) is its own worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(p) for p in children] or [self.process.pid]

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

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def mock_server(state: Path | str, fixtures: Path | None, fresh: bool = True) -> Server:
    port = free_port()
    argv = [str(BIN / "mockzoho"), "serve", "--port", str(port), "--workers", str(WORKERS), "--state", str(state)]
    argv += ["--fixtures", str(fixtures)] if fixtures else []
    argv += ["--fresh"] if fresh else []
    probe = "/crm/v8/org" if fixtures else "/__admin/health"
    return Server(argv, port, probe)


def bare_server(app: str = "bare:app", env: dict[str, str] | None = None) -> Server:
    """A baseline under the mock's gunicorn settings (bench/bare_config.py): the bare Flask app, or `raw:app`
    (no Flask)."""
    port = free_port()
    argv = [str(BIN / "gunicorn"), "--config", "python:bare_config", "--bind", f"127.0.0.1:{port}",
            "--workers", str(WORKERS), "--chdir", str(BENCH), app]
    return Server(argv, port, "/crm/v8/org", {"PYTHONPATH": str(BENCH), **(env or {})})


def wrk(server: Server, mode: str, seconds: float, start: int = 0, close: bool = False,
        extra: dict[str, str] | None = None) -> tuple[float, float, float, int, int]:
    """Requests per second, p50 and p99 latency (ms), the request count and the ids taken (where the next run's
    distinct deletes may start) of one wrk run of `bench/load.lua` in `mode`, on connections kept alive or
    (`close`) one per request; deletes take attachments from the `start`-th generated one on."""
    env = {**os.environ, "MODE": mode, "FIRST_ID": str(FIRST_ID), "START": str(start),
           "FIRST_RECORD": str(FIRST_RECORD), "PER_RECORD": str(PER_RECORD), "THREADS": str(WRK_THREADS),
           "TOKEN": TOKEN, "CLOSE": "1" if close else "0", "ROUTE": server.route, **(extra or {})}
    out = subprocess.run(["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency",
                          "-s", str(BENCH / "load.lua"), server.url],
                         env=env, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and mode in ("delete", *RECORD_MODES):
        raise RuntimeError(f"{errors.group(1)} failed deletes:\n{out}")
    return rate, latency("50"), latency("99"), count, int(re.search(r"^ids taken: (\d+)$", out, re.M).group(1))


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


def sections(text: str) -> list[str]:
    """`--only`'s argument: section names, comma-separated, each one of SECTIONS."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or text!r}: choose among {', '.join(SECTIONS)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (rough figures)")
    parser.add_argument("--only", type=sections, default=list(SECTIONS), metavar="SECTION[,SECTION]",
                        help=f"run only these sections ({', '.join(SECTIONS)}); results.md is written only when "
                             "all run")
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
    compileall.compile_file(BENCH / "bare_config.py", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="mockzoho-bench-"))
    fixtures = {n: work / f"f{n}.json" for n in (1_000, 10_000, 100_000)}
    for n, path in fixtures.items():
        generate_fixture(path, n)
    measures: dict[str, Callable[[], list[Row]]] = {
        "throughput": lambda: throughput(work, fixtures[100_000], runs, seconds),
        "peers": lambda: peers(work, fixtures[100_000], runs, seconds),
        "idle": lambda: idle(work, runs),
        "ready": lambda: ready_times(work, fixtures, runs),
        "reset": lambda: resets(work, fixtures[100_000], runs),
        "memory": lambda: memory(work, fixtures[1_000], runs),
        "in-process": lambda: in_process(work, fixtures[1_000], runs),
        "records": lambda: records(work, runs, seconds),
        "postgres": lambda: postgres(work, runs, seconds),
    }
    rows: list[Row] = []
    try:
        for number, name in enumerate(SECTIONS, 1):
            if name in args.only:
                for row in measures[name]():
                    row.section = f"{number}. {name}"
                    rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The breakdown is the in-process section's detail: a partial run without that section skips its 30 s.
    breakdown = subprocess.run([sys.executable, str(BENCH / "breakdown.py")], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout if "in-process" in args.only else ""
    report(rows, runs, seconds, breakdown, full=len(args.only) == len(SECTIONS))
    return 0 if all(r.met is not False for r in rows) else 1


def throughput(work: Path, fixture: Path, runs: int, seconds: float) -> list[Row]:
    """The error path (the target), on kept-alive connections and on one connection per request, distinct-id
    deletes and a mixed workload, against the bare app; and what gunicorn alone costs (a raw WSGI callable), to
    tell its share from Flask's and the mock's."""
    rows = []
    bare = bare_server()
    try:
        for label, mode, close in (("DELETE unknown attachment (400)", "unknown", False),
                                   ("DELETE unknown attachment (400), Connection: close", "unknown", True),
                                   ("DELETE attachment (distinct ids)", "delete", False),
                                   ("mixed upload / list / delete", "mixed", False)):
            # A fresh state for each workload, so that every delete finds its attachment.
            mock = mock_server(work / f"tp-{mode}-{close}.db", fixture)
            try:
                base, loaded = measure([bare, mock], mode, runs, seconds, close)
                rows += load_rows(label, loaded, base, targets=not close and mode == "unknown")
            finally:
                mock.stop()
        raw = bare_server("raw:app")
        try:
            base, loaded = measure([bare, raw], "delete", runs, seconds)
            rate, _, _, cpu = load_rows("raw WSGI app (no Flask) in the mock's place", loaded, base)
            rows += [rate, cpu]  # its p50 and p99 tell nothing more
        finally:
            raw.stop()
    finally:
        bare.stop()
    return rows


def measure(servers: list[Server], mode: str, runs: int, seconds: float, close: bool = False,
            extra: dict[str, str] | None = None) -> list[Load]:
    """Each server's figures under one workload, the servers taking turns run by run, so that the machine's
    drift during the measure falls on all of them alike."""
    loads = [Load(Figure(mode, "req/s"), Figure(mode, "ms"), Figure(mode, "ms"), Figure(mode, "µs"))
             for _ in servers]
    used = [0] * len(servers)  # where each server's next distinct deletes start in the generated ids
    for _ in range(runs):
        for i, (server, load) in enumerate(zip(servers, loads)):
            spent = server.cpu_seconds()
            rate, p50, p99, count, taken = wrk(server, mode, seconds, used[i], close, extra)
            load.cpu.runs.append((server.cpu_seconds() - spent) / count * 1e6)
            load.rate.runs.append(rate)
            load.p50.runs.append(p50)
            load.p99.runs.append(p99)
            used[i] += taken
    return loads


def load_rows(label: str, load: Load, base: Load, targets: bool = False) -> list[Row]:
    """A workload's rows, `load` against `base`: req/s (>= 0.8x if `targets`), p50, p99 (<= 2x) and CPU."""
    return [Row(f"{label}: req/s", load.rate, base.rate, ">= 0.8x" if targets else "",
                load.rate.median >= 0.8 * base.rate.median if targets else None),
            Row(f"{label}: p50", load.p50, base.p50, "", None),
            Row(f"{label}: p99", load.p99, base.p99, "<= 2x" if targets else "",
                load.p99.median <= 2 * base.p99.median if targets else None),
            Row(f"{label}: worker CPU per request", load.cpu, base.cpu, "", None)]


def peers(work: Path, fixture: Path, runs: int, seconds: float) -> list[Row]:
    """Other mock servers answering a DELETE with an error, each against the bare app in the same run, on
    kept-alive connections and with `Connection: close`; and the moonshot, the mock's kept-alive throughput
    against WireMock's. The servers measured get a warm-up run first, not counted: a JVM compiles as it goes."""
    rows = []
    with bare_server() as bare, mock_server(work / "peers.db", fixture) as mock:
        status, body = get(f"{mock.url}/crm/v8/Leads/{FIRST_RECORD}/Attachments/900000000000000",
                           {"Authorization": f"Zoho-oauthtoken {TOKEN}"}, "DELETE")
        starts: tuple[tuple[str, Callable[[], tuple[Server, str]], bool], ...] = (
            ("WireMock", lambda: wiremock(work, status, body), True), ("json-server", lambda: json_server(work), False))
        for name, start, moonshot in starts:
            try:
                peer, what = start()
            except NotRun as reason:
                print(f"peers: {name} not run: {reason}", file=sys.stderr)
                rows.append(Row(f"{name}: not run: {reason}", Figure(name, ""), None, "", None))
                if moonshot:
                    rows.append(Row(f"{MOONSHOT}: not run: {reason}", Figure(name, ""), None, MOONSHOT_TARGET, None))
                continue
            with peer:
                servers = [bare, peer, mock] if moonshot else [bare, peer]
                for server in servers:
                    wrk(server, "unknown", seconds)
                base, kept, *ours = measure(servers, "unknown", runs, seconds)
                rows += load_rows(f"{what}, keep-alive", kept, base)
                base, closed = measure([bare, peer], "unknown", runs, seconds, close=True)
                rows += load_rows(f"{what}, Connection: close", closed, base)
                if ours:
                    rows.append(Row(MOONSHOT, ours[0].rate, kept.rate, MOONSHOT_TARGET,
                                    ours[0].rate.median >= kept.rate.median))
    return rows


def peer_package(name: str, runtime: str) -> tuple[Path, dict]:
    """The directory and package.json of npm package `name` in bench/peers, if it and its runtime are there."""
    if shutil.which(runtime) is None:
        raise NotRun(f"{runtime} not on PATH")
    manifest = PEERS / name / "package.json"
    if not manifest.is_file():
        raise NotRun(f"{name} not installed (`{PEERS_INSTALL}`)")
    return manifest.parent, json.loads(manifest.read_text())


def wiremock(work: Path, status: int, body: bytes) -> tuple[Server, str]:
    """WireMock standalone, its request journal on (the default), with one stub answering every attachment
    DELETE as the mock answers one of an unknown attachment (`status`, `body`); and what it is, for the table."""
    home, package = peer_package("wiremock", "java")
    jar = next(home.glob("build/wiremock-standalone-*.jar"), None)
    if jar is None:
        raise NotRun(f"no wiremock-standalone jar in {home}")
    mappings = work / "wiremock" / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    stub = {"request": {"method": "DELETE", "urlPathPattern": "/crm/v8/Leads/[^/]+/Attachments/[^/]+"},
            "response": {"status": status, "body": body.decode(), "headers": {"Content-Type": CONTENT_TYPE}}}
    (mappings / "unknown-attachment.json").write_text(json.dumps(stub))
    port = free_port()
    server = Server(["java", "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
                     "--root-dir", str(mappings.parent), "--disable-banner"], port, "/__admin/health")
    return server, f"WireMock {package['version']} (stub DELETE /crm/v8/Leads/*/Attachments/* {status}, journal on)"


def json_server(work: Path) -> tuple[Server, str]:
    """json-server 0.17 on a db.json of 1,000 attachments, quiet (no log line a request); and what it answers."""
    home, package = peer_package("json-server", "node")
    if not package["version"].startswith("0.17."):
        raise NotRun(f"json-server {package['version']} installed, 0.17 wanted (`{PEERS_INSTALL}`)")
    db = work / "db.json"
    db.write_text(json.dumps({"attachments": [{"id": FIRST_ID + a} for a in range(1000)]}))
    port = free_port()
    server = Server(["node", str(home / package["bin"]), "--port", str(port), "--host", "127.0.0.1", "--quiet",
                     str(db)], port, "/attachments", route="/attachments/")
    return server, f"json-server {package['version']} (DELETE /attachments/<unknown id> 404)"


def idle(work: Path, runs: int) -> list[Row]:
    """Answers while other connections are held open sending nothing or stopped inside a request head: 100 calls
    one after the other beside 64 of them, and the issue's reproducer, one call beside two idle ones. The mock on
    `/__admin/health`, the bare app on `/crm/v8/org` (each its probe); every call on a new connection."""
    with mock_server(work / "idle.db", None) as mock, bare_server() as bare:
        (p99_m, left_m, alone_m), (p99_b, left_b, alone_b) = crowded(mock, runs), crowded(bare, runs)
    return [Row(f"with {2 * HELD} idle or half-open connections held open, p99 of 100 health calls (still open "
                f"after: mock {left_m}, bare {left_b})", p99_m, p99_b, "< 100 ms", p99_m.median < 100),
            # Every run, not the median: one request stuck behind two idle connections is the bug.
            Row("two idle connections held open, then one request: answered in", alone_m, alone_b, "< 1 s",
                max(alone_m.runs) < 1000)]


def crowded(server: Server, runs: int) -> tuple[Figure, int, Figure]:
    """The p99 of 100 calls beside HELD idle and HELD half-open connections (and how many of those were, at
    least, still open after the calls), and the time of one call beside two idle connections."""
    p99, alone, left = Figure("held", "ms"), Figure("two idle", "ms"), 2 * HELD
    for _ in range(runs):
        with held_open(server.port, HELD, HELD) as held:
            times: list[float] = []
            while len(times) < 100 and times.count(ANSWER_TIMEOUT_MS) < 2:
                times.append(answer_ms(server))
            left = min(left, still_open(held))
        # Two calls with no answer are the p99 already; the rest would only take as long (a server that does
        # not serve beside held connections would keep this section for minutes).
        times += [ANSWER_TIMEOUT_MS] * (100 - len(times))
        p99.runs.append(statistics.quantiles(times, n=100, method="inclusive")[98])
        with held_open(server.port, 2, 0):
            alone.runs.append(answer_ms(server))
    return p99, left, alone


@contextmanager
def held_open(port: int, idle: int, half_open: int) -> Iterator[list[socket.socket]]:
    """`idle` connections that send nothing and `half_open` ones that stop inside a request head, open until
    the block ends."""
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle + half_open)]
    try:
        for connection in held[idle:]:
            connection.sendall(HALF_HEAD)
        time.sleep(0.1)  # let the workers take them (and read the half heads) before anything is timed
        yield held
    finally:
        for connection in held:
            connection.close()


def still_open(held: list[socket.socket]) -> int:
    """How many of `held` the server has neither closed nor answered."""
    count = 0
    for connection in held:
        try:
            connection.recv(1, socket.MSG_DONTWAIT)  # b"" if closed, a byte if answered: not held either way
        except BlockingIOError:
            count += 1
        except ConnectionError:
            pass
    return count


def answer_ms(server: Server) -> float:
    """Milliseconds from connecting to the whole answer to GET `server.probe`; ANSWER_TIMEOUT_MS, a floor rather
    than a figure, if none came by then (every target here is below it)."""
    began = time.perf_counter()
    try:
        status, _ = get(server.url + server.probe, timeout=ANSWER_TIMEOUT_MS / 1000)
    except OSError:  # refused, reset or timed out
        return ANSWER_TIMEOUT_MS
    assert status == 200, status
    return (time.perf_counter() - began) * 1000


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
    rows.append(Row("bundled fixtures, fresh state", bundled, bare, "<= 1.5x bare",
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
        rows.append(Row(f"{n:,} attachments, fresh state", fresh, bare, target,
                        fresh.median < 3 if n == 100_000 else None))
        rows.append(Row(f"{n:,} attachments, restart on the same state", restart, bare, "", None))
    # Cost per extra attachment from 10k to 100k, against the same from 1k to 10k: 1.0 is linear growth.
    growth = Figure("growth", "x", [((fresh_medians[100_000] - fresh_medians[10_000]) / 90_000)
                                    / ((fresh_medians[10_000] - fresh_medians[1_000]) / 9_000)])
    rows.append(Row("cost per added attachment, 10k->100k over 1k->10k (1.0 = linear)", growth,
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
        rows.append(Row(f"POST /__admin/reset, {label}", figure, None, f"< {limit * 1000:.0f} ms",
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
            total += wrk(server, "unknown", 10)[3]
        after = Figure("after", "MB", [server.rss_mb()])
        rows.append(Row("worker RSS at rest", rest, None, "", None))
        rows.append(Row(f"worker RSS after {total:,} requests (journal capped at 10,000)", after, rest,
                        "no growth beyond the journal", after.median - rest.median < 20))
        refused, both = Figure("refused", "MB"), Figure("up+down", "MB")
        for _ in range(runs):
            base, peak = peak_rss_during(server, lambda: chunked_upload(server.url, 200 * MB))
            refused.runs.append(peak - base)
            base, peak = peak_rss_during(server, lambda: upload_and_download(server.url, 50 * MB))
            both.runs.append(peak - base)
        rows.append(Row("RSS above rest while a 200 MB upload is refused (413)", refused, None,
                        "<= 30 MB", refused.median <= 30))
        rows.append(Row("RSS above rest while 50 MB is uploaded and downloaded", both, None,
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
    return [Row("app.test_client() DELETE", mock, base, "", None)]


SEARCH_CALLS = 200  # search calls timed per server and run (one after the other, one connection kept alive)


def records(work: Path, runs: int, seconds: float) -> list[Row]:
    """The records API on generated Leads (bench/leads.py): ready time and restart of 100,000 leads; GET by id and
    200-record pages against the bare app serving the mock's own answers; searches by email at 100,000 leads
    against 10,000; 100-record inserts; and a reset of the 100,000 leads after them."""
    sys.path.insert(0, str(BENCH))
    import leads  # noqa: E402 - the generator, beside this script

    big, small = work / "leads-100000.json", work / "leads-10000.json"
    leads.write_fixture(big, 100_000, TOKEN)
    leads.write_fixture(small, 10_000, TOKEN)
    rows: list[Row] = []
    ready, restart, small_ready = Figure("fresh", "s"), Figure("restart", "s"), Figure("fresh", "s")
    bare_ready = Figure("bare", "s")
    mock = None
    try:
        for i in range(runs):
            server = bare_server()
            bare_ready.runs.append(server.ready_seconds)
            server.stop()
            server = mock_server(work / f"leads-small-{i}.db", small)
            small_ready.runs.append(server.ready_seconds)
            server.stop()
            server = mock_server(work / "leads.db", big)
            ready.runs.append(server.ready_seconds)
            server.stop()
            if mock is not None:
                mock.stop()
            mock = mock_server(work / "leads.db", big, fresh=False)  # the last one stays up for the loads
            restart.runs.append(mock.ready_seconds)
        rows += [Row("100,000 leads, fresh state: ready in", ready, bare_ready, "< 3 s", ready.median < 3),
                 Row("100,000 leads, restart on the same state: ready in", restart, bare_ready, "", None),
                 Row("10,000 leads, fresh state: ready in", small_ready, bare_ready, "", None)]
        assert mock is not None
        rows += record_loads(mock, work, runs, seconds, leads)
        with mock_server(work / "leads-small.db", small) as small_mock:
            rows += searches(mock, small_mock, runs, leads)
        rows += coql_pages(mock, runs)
        rows += inserts(mock, work, runs, seconds, leads)
        rows.append(record_resets(mock, runs))
        rows += dashboard_pages(mock, runs, leads)
    finally:
        if mock is not None:
            mock.stop()
    return rows


def record_loads(mock: Server, work: Path, runs: int, seconds: float, leads: object) -> list[Row]:
    """GET one lead and GET a 200-lead page, under wrk, against the bare app serving the mock's own answers."""
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
    first = leads.FIRST_LEAD  # type: ignore[attr-defined]
    status, record = get(f"{mock.url}/crm/v8/Leads/{first + 12345}", headers)
    assert status == 200, record
    status, page = get(f"{mock.url}/crm/v8/Leads?fields=Last_Name,Email,Company&per_page=200&page=5", headers)
    assert status == 200 and len(json.loads(page)["data"]) == 200, page[:500]
    bodies = work / "bare-records.json"
    bodies.write_text(json.dumps({"record": json.loads(record), "page": json.loads(page)}))
    extra = {"FIRST_LEAD": str(first), "LEADS": "100000"}
    rows = []
    bare = bare_server(env={"BARE_RECORDS": str(bodies)})
    try:
        assert get(f"{bare.url}/crm/v8/Leads/{first}")[1] == json.dumps(json.loads(record), separators=(",", ":")).encode()
        for label, mode, size in (("GET /crm/v8/Leads/{id} (100,000 leads, a different id each request)",
                                   "record", len(record)),
                                  ("GET /crm/v8/Leads?fields=Last_Name,Email,Company&per_page=200&page=1..10",
                                   "page", len(page))):
            wrk(mock, mode, 1, extra=extra)  # warm-up, not counted: the first pages read the state from disk
            base, loaded = measure([bare, mock], mode, runs, seconds, extra=extra)
            rate, p50, p99, cpu = load_rows(f"{label}, {size:,}-byte answer", loaded, base)
            rate.target, rate.met = ">= 0.7x", loaded.rate.median >= 0.7 * base.rate.median
            rows += [rate, p50, p99, cpu]
    finally:
        bare.stop()
    return rows


POSTGRES_LEADS = 10_000  # the leads both databases hold in the postgres section


def postgres(work: Path, runs: int, seconds: float) -> list[Row]:
    """The error-path DELETE and GET of a lead by id on a PostgreSQL state against the same on SQLite, one host
    each; then two hosts on the one PostgreSQL state, loaded at once, against one. PostgreSQL is a throw-away
    cluster (tests/postgres.py) on this machine, its fsync off as in the tests."""
    sys.path[:0] = [str(BENCH), str(ROOT / "tests")]
    import leads  # noqa: E402 - the generator, beside this script
    from postgres import Cluster, binaries  # noqa: E402 - the tests' cluster

    programs = binaries()
    if programs is None:
        print("postgres section skipped: no PostgreSQL server programs (apt-get install postgresql)", file=sys.stderr)
        return []
    fixture = work / f"leads-{POSTGRES_LEADS}.json"
    leads.write_fixture(fixture, POSTGRES_LEADS, TOKEN)
    extra = {"FIRST_LEAD": str(leads.FIRST_LEAD), "FIRST_RECORD": str(leads.FIRST_LEAD),
             "LEADS": str(POSTGRES_LEADS)}
    cluster = Cluster(programs).start()
    rows: list[Row] = []
    try:
        url = cluster.create_database("bench")
        with mock_server(work / "pg-sqlite.db", fixture) as lite, mock_server(url, fixture) as first:
            with mock_server(url, fixture, fresh=False) as second:
                for label, mode in (("DELETE unknown attachment (400)", "unknown"),
                                    (f"GET /crm/v8/Leads/{{id}} ({POSTGRES_LEADS:,} leads)", "record")):
                    for server in (lite, first, second):
                        wrk(server, mode, 1, extra=extra)  # warm-up, not counted
                    sqlite_load, one_host = measure([lite, first], mode, runs, seconds, extra=extra)
                    both = measure_hosts([first, second], mode, runs, seconds, extra)
                    rows += [Row(f"{label}, PostgreSQL, one host: req/s", one_host.rate, sqlite_load.rate,
                                 "(baseline: SQLite, one host)", None),
                             Row(f"{label}, PostgreSQL, one host: p99", one_host.p99, sqlite_load.p99, "", None),
                             Row(f"{label}, PostgreSQL, one host: worker CPU per request", one_host.cpu,
                                 sqlite_load.cpu, "", None),
                             Row(f"{label}, PostgreSQL, two hosts at once: req/s (both)", both.rate, one_host.rate,
                                 "close to 2x where the cores allow (baseline: one host)", None),
                             Row(f"{label}, PostgreSQL, two hosts at once: p99 (the worse)", both.p99, one_host.p99,
                                 "", None)]
    finally:
        cluster.stop()
    return rows


def measure_hosts(hosts: list[Server], mode: str, runs: int, seconds: float, extra: dict[str, str]) -> Load:
    """Several hosts of one state loaded at once, a wrk each: their summed req/s, the worst p50 and p99, and the
    CPU per request of all their workers."""
    load = Load(Figure(mode, "req/s"), Figure(mode, "ms"), Figure(mode, "ms"), Figure(mode, "µs"))
    for _ in range(runs):
        spent = sum(host.cpu_seconds() for host in hosts)
        results: list[tuple[float, float, float, int, int]] = [(0, 0, 0, 0, 0)] * len(hosts)

        def run(i: int) -> None:
            results[i] = wrk(hosts[i], mode, seconds, extra=extra)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(hosts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load.rate.runs.append(sum(r[0] for r in results))
        load.p50.runs.append(max(r[1] for r in results))
        load.p99.runs.append(max(r[2] for r in results))
        load.cpu.runs.append((sum(host.cpu_seconds() for host in hosts) - spent) / sum(r[3] for r in results) * 1e6)
    return load


def call_latencies(server: Server, calls: list[tuple[str, str, bytes | None]]) -> tuple[float, float]:
    """Median and p90 in ms of these calls (method, path, JSON body), one after the other on one kept-alive
    connection; each must answer one record."""
    times = call_times(server, calls, 1)
    return statistics.median(times), statistics.quantiles(times, n=10, method="inclusive")[8]


def call_times(server: Server, calls: list[tuple[str, str, bytes | None]], rows: int) -> list[float]:
    """How long each of these calls took, in ms, one after the other on one kept-alive connection; each must
    answer `rows` records."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}", "Content-Type": "application/json"}
    times = []
    try:
        for method, path, body in calls:
            began = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            times.append((time.perf_counter() - began) * 1000)
            assert response.status == 200 and len(json.loads(answer)["data"]) == rows, answer[:300]
    finally:
        connection.close()
    return times


JOURNAL_CAP = 10_000  # the journal's default cap: a full journal


def dashboard_pages(mock: Server, runs: int, leads: object) -> list[Row]:
    """The dashboard's pages on 100,000 leads and a full journal (10,000 calls made first, as the reset before
    emptied it): each opened five times a run, the median kept; the issue's goal is under a second."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=60)
    for _ in range(JOURNAL_CAP):
        connection.request("GET", "/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {TOKEN}"})
        connection.getresponse().read()
    connection.close()
    journal = json.loads(get(f"{mock.url}/__admin/requests/count")[1])["count"]
    pages = {"overview (counts of 100,000 leads)": "/__admin/ui/",
             "a page of 50 leads, the first": "/__admin/ui/orgs/bench/crm/Leads",
             "a page of 50 leads, the last": "/__admin/ui/orgs/bench/crm/Leads?page=2000",
             "a lead's page": f"/__admin/ui/orgs/bench/crm/Leads/{leads.FIRST_LEAD}",  # type: ignore[attr-defined]
             f"journal page and its first feed (500 of {journal} entries)": "/__admin/ui/requests",
             "journal feed, the oldest 500": "/__admin/ui/requests.json?after=0&order=asc&limit=500",
             "journal feed, the newest 500": "/__admin/ui/requests.json?limit=500"}
    rows = []
    for label, path in pages.items():
        figure = Figure(label, "ms")
        for _ in range(runs):
            times = []
            for _ in range(5):
                began = time.perf_counter()
                status, _ = get(mock.url + path)
                if path == "/__admin/ui/requests":
                    get(mock.url + "/__admin/ui/requests.json?after=0&order=asc&limit=500")
                times.append((time.perf_counter() - began) * 1000)
                assert status == 200, (path, status)
            figure.runs.append(statistics.median(times))
        rows.append(Row(f"dashboard: {label}", figure, None, "< 1000 ms", figure.median < 1000))
    return rows


def coql_call(query: str, version: str = "v8") -> tuple[str, str, bytes]:
    return "POST", f"/crm/{version}/coql", json.dumps({"select_query": query}).encode()


def searches(big: Server, small: Server, runs: int, leads: object) -> list[Row]:
    """Search and COQL by an indexed field (`email=`, `criteria=(Email:equals:...)`, `where Email = ...`): latency
    at 100,000 leads over the same at 10,000, the two servers taking turns run by run; each call looks up an
    existing email, drawn at random."""
    import random
    rows = []
    emails = leads.emails(100_000)  # type: ignore[attr-defined]
    rng = random.Random(7)
    for label, make in (("search email=<an existing email>",
                         lambda e: ("GET", f"/crm/v8/Leads/search?email={urllib.parse.quote(e)}", None)),
                        ("search criteria=(Email:equals:<an existing email>)",
                         lambda e: ("GET", "/crm/v8/Leads/search?criteria=" + urllib.parse.quote(
                             f"(Email:equals:{e})"), None)),
                        ("COQL select Last_Name, Email from Leads where Email = '<an existing email>'",
                         lambda e: coql_call(f"select Last_Name, Email from Leads where Email = '{e}'"))):
        figures = {n: (Figure("p50", "ms"), Figure("p90", "ms")) for n in (10_000, 100_000)}
        for server, n in ((small, 10_000), (big, 100_000)):
            call_latencies(server, [make(e) for e in rng.sample(emails[:n], 20)])  # warm-up, not counted
        for _ in range(runs):
            for server, n in ((small, 10_000), (big, 100_000)):
                p50, p90 = call_latencies(server, [make(e) for e in rng.sample(emails[:n], SEARCH_CALLS)])
                figures[n][0].runs.append(p50)
                figures[n][1].runs.append(p90)
        for k, what in enumerate(("median", "p90")):
            at_big, at_small = figures[100_000][k], figures[10_000][k]
            rows.append(Row(f"{label}, {what} of {SEARCH_CALLS} calls: 100,000 leads against 10,000",
                            at_big, at_small, "<= 1.5x", at_big.median <= 1.5 * at_small.median))
    return rows


def coql_pages(mock: Server, runs: int) -> list[Row]:
    """2000 leads in one COQL call against the same 2000 through the records list (ten pages of 200, its most),
    both on v7: v8's list pages stop at 2000 records without a page token."""
    coql, listed = Figure("coql", "ms"), Figure("list", "ms")
    fields = "Last_Name,Email,Company"
    for _ in range(runs):
        for offset in (20_000, 40_000, 60_000):
            coql.runs += call_times(mock, [coql_call(
                f"select {fields.replace(',', ', ')} from Leads where id is not null limit 2000 offset {offset}",
                "v7")], 2000)
            listed.runs.append(sum(call_times(mock, [
                ("GET", f"/crm/v7/Leads?fields={fields}&per_page=200&page={page}", None)
                for page in range(offset // 200 + 1, offset // 200 + 11)], 200)))
    return [Row("COQL on v7, 2000 leads in one call (limit 2000 offset 20,000-60,000) against the same 2000 "
                "through the v7 records list (10 pages of 200): ms", coql, listed, "", None)]


def inserts(mock: Server, work: Path, runs: int, seconds: float, leads: object) -> list[Row]:
    """POST /crm/v8/Leads with 100 new leads a call (every email new), under wrk: records inserted per second."""
    template = json.dumps(leads.new_leads(0))  # type: ignore[attr-defined]
    template = re.sub(r"new\.(\d+)@insert", r"new.\1.{n}@insert", template)
    body = work / "insert.json"
    body.write_text(template)
    extra = {"BODY_FILE": str(body)}
    status, answer = get(f"{mock.url}/crm/v8/Leads", {"Authorization": f"Zoho-oauthtoken {TOKEN}",
                                                      "Content-Type": "application/json"}, "POST",
                         template.replace("{n}", "check").encode())
    assert status == 201 and len(json.loads(answer)["data"]) == 100, answer[:500]
    (load,) = measure([mock], "insert", runs, seconds, extra=extra)
    per_record = Figure("records/s", "records/s", [r * 100 for r in load.rate.runs])
    return [Row("POST /crm/v8/Leads, 100 new leads a call (100,000 leads stored): records inserted per second",
                per_record, None, "", None),
            Row("POST /crm/v8/Leads, 100 new leads a call: p50", load.p50, None, "", None),
            Row("POST /crm/v8/Leads, 100 new leads a call: p99", load.p99, None, "", None),
            Row("POST /crm/v8/Leads, 100 new leads a call: worker CPU per record", Figure(
                "cpu", "µs", [c / 100 for c in load.cpu.runs]), None, "", None)]


def record_resets(mock: Server, runs: int) -> Row:
    """POST /__admin/reset of the 100,000 leads, each after 100 new ones and an update of 100 of the fixture's."""
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}", "Content-Type": "application/json"}
    import leads  # noqa: E402 - on the path since records() ran
    figure = Figure("reset", "ms")
    # Not timed: this one also takes away the leads the insert rows added (tens of thousands).
    assert get(f"{mock.url}/__admin/reset", {"Content-Type": "application/json"}, "POST", b"{}")[0] == 200
    for i in range(max(runs, 9)):
        status, _ = get(f"{mock.url}/crm/v8/Leads", headers, "POST", json.dumps(leads.new_leads(10**7 + i * 100)).encode())
        assert status == 201
        update = {"data": [{"id": str(leads.FIRST_LEAD + k), "Company": f"Reset {i}"} for k in range(100)]}
        status, _ = get(f"{mock.url}/crm/v8/Leads", headers, "PUT", json.dumps(update).encode())
        assert status == 200, _
        began = time.perf_counter()
        status, _ = get(f"{mock.url}/__admin/reset", {"Content-Type": "application/json"}, "POST", b"{}")
        assert status == 200
        figure.runs.append((time.perf_counter() - began) * 1000)
    return Row("POST /__admin/reset, 100,000 leads (after 100 inserts and 100 updates)", figure, None, "< 1000 ms",
               figure.median < 1000)


def report(rows: list[Row], runs: int, seconds: float, breakdown: str, full: bool) -> None:
    """Print the table (and the breakdown, if run); a full run also writes it, with the analysis, to results.md."""
    machine = (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
               f"{platform.system()} {platform.release()}")
    lines = [
        "# mockzoho benchmarks",
        "",
        f"Machine: {machine}. Each figure is the median of {runs} run(s) (min-max in brackets); throughput runs "
        f"last {seconds:.0f} s with wrk ({WRK_THREADS} threads, {WRK_CONNECTIONS} connections) on the same machine "
        "as the servers, on connections kept alive unless the measure says `Connection: close` (every request "
        "says it, so each has a connection of its own). Absolute figures are noisy and depend on the machine; the "
        "ratios against the baseline measured in the same run are what count. Baseline: `bench/bare.py`, a bare "
        "Flask app with the same routes and bodies under the same gunicorn settings (`bench/bare_config.py`: "
        f"those of `mockzoho.server` but its hooks, which seed the mock's state; {WORKERS} workers of gunicorn's "
        f"threaded worker, gthread, as `{served.worker_class}`, {served.threads} threads each, a connection kept "
        f"alive {served.keepalive} s between requests). The mock runs as the README deploys it (`mockzoho serve "
        f"--workers {WORKERS}`, same settings, SQLite state, journal on). Both load their Python code from "
        "bytecode (the package is compiled first, as pip compiles the dependencies). Worker CPU per request is the "
        "workers' user + system time over the requests wrk counted (a peer's one process is its worker).",
        "",
        "The peers section measures other mock servers installed in `bench/peers` (bench/README.md) the same way, "
        "each against the bare app in the same run, after one uncounted warm-up run of every server measured; its "
        "figure column is the peer's (the moonshot's: the mock's, against WireMock's). The idle section holds "
        f"connections open that send nothing, or stop inside a request head (`{HALF_HEAD.decode()!r}`, no blank "
        "line after it), while calls are timed one after the other, each on a new connection.",
        "",
        "| | measure | figure | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    blocks = {name: [row for row in rows if row.section.endswith(f". {name}")] for name in BLOCKS}
    lines += table_lines([row for row in rows if not any(row in block for block in blocks.values())])
    if breakdown:
        lines += ["", "In-process breakdown (`bench/breakdown.py`, same run: each DELETE sent straight to the WSGI "
                  "app, 100,000 attachments):", "", breakdown.strip()]
    text = "\n".join(lines) + "\n"
    block_texts = {name: BLOCKS[name][1](block, runs, seconds, machine) for name, block in blocks.items() if block}
    results = BENCH / "results.md"
    if not full:
        if block_texts and sum(len(b) for b in blocks.values()) == len(rows) and results.is_file():
            # The records or postgres sections alone rewrite their own blocks of results.md, the rest left as it was.
            new = results.read_text()
            for name, block_text in block_texts.items():
                new = with_block(new, BLOCKS[name][0], block_text)
                print(block_text)
            results.write_text(new)
            print(f"bench/results.md: its {', '.join(block_texts)} block(s) rewritten (a run of those alone).")
            return
        print(text + "".join("\n" + t for t in block_texts.values())
              + "\nbench/results.md not written: a partial run (--only).")
        return
    text += "".join("\n" + t for t in block_texts.values()) + "\n" + (BENCH / "analysis.md").read_text().strip() + "\n"
    print(text)
    results.write_text(text)


def with_block(old: str, heading: str, block_text: str) -> str:
    """results.md with the block under `heading` replaced by `block_text` (added before the analysis if new)."""
    begin = old.find(heading + "\n")
    end = old.find("\n## ", begin + 1) if begin >= 0 else -1
    if begin < 0:
        begin = end = old.find(ANALYSIS_HEADING)
    if begin < 0:
        return old.rstrip("\n") + "\n\n" + block_text
    return old[:begin] + block_text + "\n" + old[end:].lstrip("\n")


RECORDS_HEADING = "## Records"
POSTGRES_HEADING = "## PostgreSQL"
ANALYSIS_HEADING = "## Where the time goes"


def table_lines(rows: list[Row]) -> list[str]:
    lines = ["| | measure | figure | baseline | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        met = "" if row.met is None else "yes" if row.met else "**no**"
        lines.append(f"| {row.section} | {row.what} | {row.figure.text()} | "
                     f"{row.base.text() if row.base else ''} | {row.ratio} | {row.target} | {met} |")
    return lines


def records_block(rows: list[Row], runs: int, seconds: float, machine: str) -> str:
    """The Records section of results.md: what was measured, how, and the table."""
    intro = (
        f"Generated by `python bench/run.py --only records` (or a full run) on {time.strftime('%Y-%m-%d')}. Machine: "
        f"{machine}, shared with other jobs while it ran: absolute figures are noisy, and only the ratios against a "
        "baseline measured in the same run, the servers taking turns run by run, are worth comparing. Each figure is "
        f"the median of {runs} run(s), min-max in brackets. The state: an org whose CRM Leads hold 100,000 records "
        "generated by `bench/leads.py` (names, a unique email, company, phone, picklists, address: 17 values a "
        "record), and a second server on the first 10,000 of them for the search rows. The mock as the README "
        f"serves it (`mockzoho serve --workers {WORKERS}`, gunicorn's threaded worker); wrk as above ({WRK_THREADS} "
        f"threads, {WRK_CONNECTIONS} connections kept alive, {seconds:.0f} s a run). Baseline of the GET rows: "
        "`bench/bare.py` under the same gunicorn settings, answering the same URL with the mock's own answer to it "
        "(one record; the 200-record page), captured once and serialized again by `json.dumps` on each request. "
        f"Search and COQL equality rows: {SEARCH_CALLS} calls a run, one after the other on one kept-alive "
        "connection, each for an existing email drawn at random, the 10,000-lead server first, then the "
        "100,000-lead one; the ratio is 100,000 over 10,000. The COQL page row: one call for 2000 leads against the "
        "ten list pages of 200 that hold the same leads, timed back to back on one connection. Ready: spawn to the "
        "first correct answer, targets those of the attachments rows (`< 3 s` fresh; reset `< 1000 ms`, each reset "
        "after 100 inserts and 100 updates, an untimed one first).")
    return "\n".join([RECORDS_HEADING, "", intro, "", *table_lines(rows)]) + "\n"


def postgres_block(rows: list[Row], runs: int, seconds: float, machine: str) -> str:
    """The PostgreSQL section of results.md."""
    intro = (
        f"Generated by `python bench/run.py --only postgres` (or a full run) on {time.strftime('%Y-%m-%d')}. Machine: "
        f"{machine}, shared with other jobs: only the ratios, measured in the same run, are worth comparing. Each "
        f"figure is the median of {runs} run(s), min-max in brackets. The state: {POSTGRES_LEADS:,} generated leads "
        "(bench/leads.py), seeded into a SQLite file and into a PostgreSQL database of a throw-away cluster on the "
        f"same machine (tests/postgres.py: fsync off). Each host is `mockzoho serve --workers {WORKERS}`; one host "
        f"is loaded by one wrk ({WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {seconds:.0f} s), two hosts "
        "on one PostgreSQL state by one wrk each at the same time, their rates summed. The servers, PostgreSQL and "
        "wrk share the machine's cores: where they are all busy, two hosts cannot be twice one.")
    return "\n".join([POSTGRES_HEADING, "", intro, "", *table_lines(rows)]) + "\n"


BLOCKS: dict[str, tuple[str, Callable[[list[Row], int, float, str], str]]] = {
    "records": (RECORDS_HEADING, records_block), "postgres": (POSTGRES_HEADING, postgres_block)}


if __name__ == "__main__":
    sys.exit(main())
