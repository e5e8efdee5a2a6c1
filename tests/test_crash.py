"""Crash leftovers under real `mockzoho serve`: a worker killed (-9) mid-upload leaves its staging file, a
worker killed between placing a blob and its commit leaves the blob; a restart and a reset sweep both,
and leave an upload in flight alone.

The killed upload is a Cosmos DB attachment's media: that body streams straight into the staging file. A
Zoho multipart body is first spooled by werkzeug into an anonymous temp file (gone with the process), and
only then copied into a staging file, too quickly to kill the worker in between on purpose."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from email.utils import formatdate
from pathlib import Path
from typing import Callable

import requests

from conftest import auth
from servers import Server, free_port, serve_command
from test_cosmos import DOC, headers

UPLOADS = "/crm/v8/Leads/2883756000000261101/Attachments"
MEDIA_BYTES, SENT_FIRST = 1536 * 1024, 1100 * 1024  # under the bundled account's max_media_bytes (2 MiB); the
# worker stages 1 MiB chunks: the first is written, and the worker waits for the second
DEADLINE = 30.0


def wait_for(found: Callable[[], object], what: str) -> object:
    """Poll until `found()` is truthy; its value."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"no {what} after {DEADLINE} s")


def serve(state: Path) -> Server:
    port = free_port()
    return Server(serve_command("--port", str(port), "--workers", "2", "--state", str(state)), port)


class MediaUpload:
    """A Cosmos DB attachment upload over a raw socket, its body sent half: the worker that took it sits
    in the middle of staging it."""

    def __init__(self, url: str, slug: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=DEADLINE)
        sent = headers("POST", "attachments", DOC, date=formatdate(usegmt=True), Slug=slug,
                       **{"Content-Type": "application/octet-stream", "Content-Length": str(MEDIA_BYTES)})
        head = "".join(f"{k}: {v}\r\n" for k, v in sent.items())
        self.sock.sendall(f"POST /{DOC}/attachments HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode()
                          + b"m" * SENT_FIRST)

    def __enter__(self) -> MediaUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()  # a request still open would hold a worker, and the server's stop, for a minute

    def finish(self) -> int:
        """Send the rest of the body; the status of the answer."""
        self.sock.sendall(b"m" * (MEDIA_BYTES - SENT_FIRST))
        with self.sock.makefile("rb") as answer:
            status = int(answer.readline().split()[1])
        self.sock.close()
        return status


def staging_files(state: Path) -> set[Path]:
    return set(Path(f"{state}.blobs").glob(".upload-*"))


def holder(path: Path) -> int | None:
    """The process that has `path` open, if any."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except (FileNotFoundError, PermissionError):  # a process that ended, or not ours
            continue
    return None


def staged_by(state: Path, server: Server, slug: str) -> tuple[MediaUpload, Path, int]:
    """Start an upload; it, the staging file that appeared for it, and the worker writing it."""
    before = staging_files(state)
    started = MediaUpload(server.url, slug)
    try:
        [path] = wait_for(lambda: [p for p in staging_files(state) - before if p.stat().st_size > 0],
                          "staging file with bytes in it")
        return started, path, wait_for(lambda: holder(path), "process holding the staging file")
    except BaseException:
        started.sock.close()
        raise


def dead(pid: int) -> bool:
    """True once the process is gone or a zombie: the kernel has closed its files, and dropped its locks."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def kill_mid_upload(server: Server, state: Path) -> Path:
    """kill -9 the worker staging an upload; the staging file it leaves."""
    upload, leftover, worker = staged_by(state, server, "killed")
    with upload:
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: dead(worker), "end of the killed worker")
    assert leftover.exists() and leftover.stat().st_size > 0
    return leftover


def unreferenced_blob(state: Path) -> Path:
    """A blob no row refers to, as a worker killed between placing it and committing leaves."""
    content = b"placed, never committed"
    digest = hashlib.sha256(content).hexdigest()
    path = Path(f"{state}.blobs") / digest[:2] / digest
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def round_trip(server: Server) -> None:
    """The state still works: an upload, then its download."""
    uploaded = requests.post(server.url + UPLOADS, headers=auth(), files={"file": ("after.txt", b"after the crash")},
                             timeout=DEADLINE)
    assert uploaded.status_code == 200, uploaded.text
    attachment = uploaded.json()["data"][0]["details"]["id"]
    download = requests.get(f"{server.url}{UPLOADS}/{attachment}", headers=auth(), timeout=DEADLINE)
    assert (download.status_code, download.content) == (200, b"after the crash")


def test_a_restart_sweeps_what_killed_workers_left(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve(state) as server:
        leftover, blob = kill_mid_upload(server, state), unreferenced_blob(state)
        round_trip(server)  # a worker took the killed one's place; nothing was swept while serving
        assert leftover.exists() and blob.exists()
    with serve(state) as server:
        assert not leftover.exists() and not blob.exists()
        assert staging_files(state) == set()
        round_trip(server)


def test_a_reset_sweeps_what_killed_workers_left_but_not_an_upload_in_flight(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve(state) as server:
        leftover, blob = kill_mid_upload(server, state), unreferenced_blob(state)
        live, in_flight, _ = staged_by(state, server, "in-flight")  # one worker busy
        with live:
            reset = requests.post(server.url + "/__admin/reset", json={}, timeout=DEADLINE)  # on the other
            assert reset.status_code == 200, reset.text
            assert not leftover.exists() and not blob.exists()
            assert staging_files(state) == {in_flight}
            assert live.finish() == 201
        assert staging_files(state) == set()  # placed
        round_trip(server)
