"""A throw-away PostgreSQL cluster for the tests and the bench: `initdb` and `pg_ctl` from Debian's `postgresql`
package under a temporary folder, run as the unprivileged user `nobody` when the tests run as root (PostgreSQL
refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from servers import free_port

USER = "mockzoho"  # the cluster's superuser, trusted on loopback
UNPRIVILEGED = "nobody"


def binaries() -> Path | None:
    """The folder of PostgreSQL's server programs (`initdb`, `pg_ctl`), or None if none is installed."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


class Cluster:
    """One PostgreSQL server on a free loopback port, its data in a temporary folder, deleted when it stops."""

    def __init__(self, programs: Path) -> None:
        self.programs = programs
        self.folder = Path(tempfile.mkdtemp(prefix="mockzoho-pg-"))
        self.port = free_port()
        self.log = self.folder / "server.log"

    def _run(self, *argv: str) -> None:
        """Run a server program, as `nobody` if this is root."""
        command = [str(self.programs / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", UNPRIVILEGED, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            shutil.chown(self.folder, UNPRIVILEGED)
        self._run("initdb", "-D", str(self.folder / "data"), "--auth=trust", "--locale=C", "--encoding=UTF8",
                  "-U", USER)
        # fsync off: a test's cluster outlives no crash of the machine. Many connections: every app has pools.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400")
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        """One statement on the maintenance database (CREATE or DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, empty or a copy of `template` (which nobody may be connected to); its URL."""
        self.sql(f"CREATE DATABASE {name}" + ("" if template is None else f" TEMPLATE {template} STRATEGY FILE_COPY"))
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
