"""Starting and stopping real server processes for the tests that need one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Mapping, Sequence

import requests
from flask import Flask

from mockzoho.pytest_plugin import bind, serving

REPO = Path(__file__).resolve().parent.parent

# `-p no:` flags for the pytest runs the tests start: this venv's hypothesis, schemathesis and anyio plugins,
# which none of those runs uses, are most of a pytest process's start (some 4 s of CPU each, every xdist worker
# too); mockzoho's own plugin and xdist are still found by their entry points.
UNUSED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:anyio")


def end(process: subprocess.Popen, sig: int, timeout: float) -> int:
    """Send `sig` to a process still running and wait for it, killing it if it outlasts `timeout`; its status."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server process reached at host:port, started from a command line, stopped on exit. What it prints goes
    to `log` if given, else it is read as it comes (`printed()`); `errors`, if given, takes its stderr apart."""

    def __init__(self, argv: Sequence[str], port: int, env: Mapping[str, str] | None = None,
                 cwd: Path = REPO, log: Path | None = None, pass_fds: Sequence[int] = (),
                 host: str = "127.0.0.1", errors: Path | None = None) -> None:
        self.argv, self.port, self.cwd, self.log, self.pass_fds = list(argv), port, cwd, log, tuple(pass_fds)
        self.errors = errors
        self.env = {**os.environ, **(env or {})}
        self.url = f"http://{host}:{port}"
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None
        self.read = bytearray()

    def start(self, timeout: float = 20) -> Server:
        # A pipe nobody reads fills up and blocks the workers (`mockzoho serve` prints a line per call): it is
        # drained by a thread as the server writes.
        out = subprocess.PIPE if self.log is None else self.log.open("wb")
        err = subprocess.STDOUT if self.errors is None else self.errors.open("wb")
        self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=err,
                                        pass_fds=self.pass_fds)
        for opened in (out, err):
            if not isinstance(opened, int):
                opened.close()
        if self.log is None:
            self.reader = threading.Thread(target=self.drain, args=(self.process.stdout,), daemon=True)
            self.reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/__admin/health", timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a busy machine
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.output()}")

    def drain(self, pipe: IO[bytes]) -> None:
        for chunk in iter(lambda: pipe.read1(65536), b""):  # type: ignore[attr-defined]
            self.read += chunk

    def printed(self) -> str:
        """What the server has printed so far (when it has no `log`)."""
        return bytes(self.read).decode(errors="replace")

    def output(self) -> str:
        """What the server printed, once it has exited."""
        if self.process is None or self.process.poll() is None:
            return ""
        if self.log is not None:
            return self.log.read_bytes().decode(errors="replace")
        if self.reader is not None:
            self.reader.join(timeout=10)  # the pipe ends once the workers, which hold it too, have gone
        return self.printed()

    def stop(self) -> str:
        """Stop gracefully (SIGTERM), and return what the server printed."""
        if self.process is not None:
            end(self.process, signal.SIGTERM, 20)
        return self.output()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, a line each (continued lines joined)."""
    return (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines()


def dockerfile_argv(instruction: str) -> list[str]:
    """The exec-form command of the Dockerfile's CMD (or its HEALTHCHECK's CMD), from this venv."""
    line = next(line for line in dockerfile_lines() if line.startswith(instruction))
    argv = json.loads(line[line.index("CMD ") + len("CMD "):])
    return [str(Path(sys.executable).parent / argv[0]), *argv[1:]]


def dockerfile_command(bind: str = "0.0.0.0:8000", workers: int = 2) -> list[str]:
    """The Dockerfile's CMD, bound to `bind` (a `host:port` or `fd://N`) instead of 0.0.0.0:8000."""
    argv = [bind if a == "0.0.0.0:8000" else a for a in dockerfile_argv("CMD")]
    argv[argv.index("--workers") + 1] = str(workers)
    return argv


def gunicorn_command(port: int, workers: int = 2) -> list[str]:
    """The Dockerfile's CMD, bound to a loopback port."""
    return dockerfile_command(f"127.0.0.1:{port}", workers)


def dockerfile_env() -> dict[str, str]:
    """The Dockerfile's ENV: what the image's processes find in their environment."""
    pairs = [line.split()[1:] for line in dockerfile_lines() if line.startswith("ENV ")]
    return dict(pair.split("=", 1) for words in pairs for pair in words)


def serve_command(*flags: str) -> list[str]:
    """`mockzoho serve` from this venv, with these flags."""
    return [str(Path(sys.executable).parent / "mockzoho"), "serve", *flags]


@contextmanager
def serve_in_thread(app: Flask) -> Iterator[str]:
    """Serve a Flask app on a free loopback port in a thread; yields its base URL."""
    with serving(bind("127.0.0.1"), app) as url:
        yield url
