"""Serving under gunicorn: the settings `mockzoho serve` and the Dockerfile share, and a worker that
answers even HTTP gunicorn itself rejects (a request line too long, a malformed header) in JSON."""

from __future__ import annotations

import errno
import json
import resource
import select
import socket
import sys
from http import HTTPStatus
from concurrent import futures
from typing import Any, Callable, NoReturn

from flask import Flask
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.http.errors import ConfigurationProblem, InvalidHeader
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import _DEFER as DEFER  # what `handle` returns to have the poller wait
from gunicorn.workers.gthread import ThreadWorker, TConn

from .config import Settings
from .exposure import CLI_REMEDY, ENV_REMEDY, Listening, refusal
from .state import seeding_problem
from .zoho.errors import CATALOGUE, CONTENT_TYPE

# gunicorn reads these names when started with `--config python:mockzoho.server`.
worker_class = "mockzoho.server.JsonErrorWorker"
# Threads, not processes, carry connections: a client that idles, sends half a request or a 60 s delay fault
# holds a thread (or, idle, only a place in the worker's poller), never the whole worker.
threads = 128
keepalive = 5  # seconds a connection may idle between requests
limit_request_line = 8190  # gunicorn's maximum: 100 ids of 19 digits fit with room to spare
timeout = 300  # a slow 100 MB upload or download, or a 60 s delay fault, must not get the worker killed
# gunicorn 25.1+ serves a control socket at one path per user (~/.gunicorn/gunicorn.ctl): each mock server
# started would take it from the one before, and stopping one would remove another's. The control API is ours.
control_socket_disable = True

_CODES = {414: "INVALID_URL_PATTERN", 500: "INTERNAL_ERROR"}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, in the Zoho envelope instead of an HTML page, its status line in the
    phrase of its status. A transfer coding gunicorn does not know (its 501) is the client's error: 400."""
    if status_int == 501:
        status_int = 400
    code = _CODES.get(status_int, "UNABLE_TO_PARSE_DATA_TYPE")
    body = json.dumps({"code": code, "details": {}, "message": CATALOGUE[code][1], "status": "error"},
                      separators=(",", ":")).encode()
    head = (f"HTTP/1.1 {status_int} {HTTPStatus(status_int).phrase}\r\nConnection: close\r\n"
            f"Content-Type: {CONTENT_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    gunicorn_util.write_nonblock(sock, head + body)


# How long a thread waits on its connection for the client's next bytes before the poller takes it: a client
# that keeps sending is served without a hand-off to the poller thread and back (5-10% of a request's cost
# in the benchmark, kept alive).
LINGER_MS = 5
# Open files: a thread that has served requests keeps its SQLite connections to the state and the journal and
# their lock files (about 4); a worker keeps its listeners, poller, logs and checkpoint connections besides.
FILES_PER_THREAD, FILES_PER_WORKER = 5, 64
READ_TIMEOUT = 30.0  # seconds a client may leave a request (its head or its body) or an answer without a byte


class PatientSocket(socket.socket):
    """A client socket whose blocking mode waits at most READ_TIMEOUT for each read or write: a client that
    stops mid-request, or stops reading its answer, is taken for gone, and the thread serving it is free again.

    gunicorn logs a timeout as a socket error with its traceback; what it takes quietly is a client that went
    away: a read then finds the end of the stream (a head is dropped, a body is short: a 400), a write a
    broken pipe. Once a read has timed out, every read finds the end, and the connection is closed after its
    answer (`JsonErrorWorker.handle`): what the client sends later is not a request."""

    timed_out = False

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(READ_TIMEOUT)
        else:
            super().setblocking(False)

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self.timed_out:
            return b""
        try:
            return super().recv(size, flags)
        except TimeoutError:
            self.timed_out = True
            return b""

    def sendall(self, data: Any, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except TimeoutError as exc:
            raise BrokenPipeError(errno.EPIPE, "the client read nothing for READ_TIMEOUT") from exc

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        try:
            return super().sendfile(file, offset, count)
        except TimeoutError as exc:
            raise BrokenPipeError(errno.EPIPE, "the client read nothing for READ_TIMEOUT") from exc


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker, writing its own errors in JSON, with a read timeout on every connection."""

    def init_process(self) -> None:
        gunicorn_util.write_error = write_json_error  # type: ignore[assignment]
        self.fit_open_files()
        super().init_process()

    def fit_open_files(self) -> None:
        """Take the hard limit on open files, and serve no more threads and connections than it allows: a
        worker out of descriptors fails requests (a 500 on a write) and dies. (Docker's soft limit is 1024.)"""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        spare = (hard if hard != resource.RLIM_INFINITY else 1 << 20) - FILES_PER_WORKER
        # Threads (each with its files and a connection) take at most half of what is spare; connections the rest.
        self.threads = max(1, min(self.cfg.threads, spare // (FILES_PER_THREAD + 1) // 2))
        self.worker_connections = max(self.threads, min(self.cfg.worker_connections,
                                                        spare - FILES_PER_THREAD * self.threads))
        self.max_keepalived = self.worker_connections - self.threads
        if self.threads < self.cfg.threads or self.worker_connections < self.cfg.worker_connections:
            self.log.warning("%d open files at most: serving %d threads and %d connections per worker",
                             hard, self.threads, self.worker_connections)

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        return futures.ThreadPoolExecutor(max_workers=self.threads)

    def enqueue_req(self, conn: TConn) -> None:
        if not isinstance(conn.sock, PatientSocket):  # a connection just accepted
            plain = conn.sock
            conn.sock = PatientSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        super().enqueue_req(conn)

    def handle(self, conn: TConn) -> Any:
        """Serve a connection's requests while its client keeps sending them, then give it back to the poller.

        A new connection with nothing to read goes to the poller at once: gunicorn would have a thread wait 5 s
        for its first bytes, so a crowd of idle connections held every thread (100 of them, 16 threads: 30 s)."""
        if not conn.initialized and not conn.data_ready:
            if not self.readable(conn):
                return DEFER
            conn.data_ready = True
        while True:
            result = super().handle(conn)
            if getattr(conn.sock, "timed_out", False):
                return False
            if result is not True or not self.alive:
                return result
            if not conn.parser.unreader.buf.getvalue() and not self.readable(conn):
                return result

    @staticmethod
    def readable(conn: TConn) -> bool:
        """Whether the client sends something within LINGER_MS (a poll object kept with the connection)."""
        poll = getattr(conn, "poll", None)
        if poll is None:
            poll = conn.poll = select.poll()
            poll.register(conn.sock, select.POLLIN)
        return bool(poll.poll(LINGER_MS))

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        # gunicorn takes SCRIPT_NAME from a request header (from loopback, its trusted address) and calls a
        # path outside it a configuration problem, a 500: it is a header the client sent.
        if isinstance(exc, ConfigurationProblem):
            exc = InvalidHeader("SCRIPT_NAME", req=req)
        super().handle_error(req, client, addr, exc)


def post_worker_init(worker: Worker) -> None:
    """Tell the app, in every worker of any class, the addresses its listening sockets are bound to."""
    worker.wsgi = Listening(worker.wsgi, [listener.getsockname() for listener in worker.sockets])


def when_ready(arbiter: Arbiter) -> None:
    """Before any worker starts (the config module's hook): refuse a control API anyone could reach, bound
    beyond loopback with no admin token, and seed the state once, so that a bad setting, fixture or state file
    is said once, in full, rather than as a traceback from every worker. Settings are read as the workers will."""
    try:
        settings = Settings.load()
    except ValueError as exc:
        stop(f"mockzoho: {exc}")
    refuse_an_open_control_api(arbiter, settings.admin_token)
    problem = seeding_problem(settings)
    if problem:
        stop(problem)


def refuse_an_open_control_api(arbiter: Arbiter, admin_token: str, remedy: str = ENV_REMEDY) -> None:
    """Stop the arbiter if its listeners and this token would leave the control API open to all."""
    problem = refusal((listener.getsockname() for listener in arbiter.LISTENERS), admin_token, remedy)
    if problem:
        stop(problem)


def stop(message: str) -> NoReturn:
    """Say why and exit 2, with no worker started."""
    print(message, file=sys.stderr, flush=True)
    sys.exit(2)


class Server(BaseApplication):
    """gunicorn serving an app built (and its state seeded) before the workers fork."""

    def __init__(self, app: Flask, options: dict[str, Any], on_ready: Callable[[Arbiter], None] | None = None) -> None:
        self.application, self.on_ready = app, on_ready
        self.options = {"worker_class": worker_class, "threads": threads, "keepalive": keepalive,
                        "limit_request_line": limit_request_line, "timeout": timeout,
                        "control_socket_disable": control_socket_disable, "post_worker_init": post_worker_init,
                        "when_ready": self.when_ready, **options}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # as a config module's names are: control_socket_disable came in 25.1
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application

    def when_ready(self, arbiter: Arbiter) -> None:
        """Judge the bound sockets, then (if they may serve) run `on_ready`."""
        refuse_an_open_control_api(arbiter, self.application.extensions["mockzoho"].settings.admin_token,
                                   CLI_REMEDY)
        if self.on_ready is not None:
            self.on_ready(arbiter)
