"""A private, throw-away PostgreSQL server for the gradebook tests.

The PostgreSQL support is only worth something if it is tested against a real server, and a
test must not depend on (or damage) a server somebody else runs. So the session starts its own
cluster: ``initdb`` into a fresh temporary directory, listening on 127.0.0.1 on a free port with
its unix socket in that directory, password authentication over TCP (the way a course would
connect), and it is stopped and deleted when the session ends.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
``postgres`` system user (Debian's ``postgresql`` package creates it) and owns the directory.

Test modules use the fixtures by importing them::

    from pg_server import pg_database, pg_server  # noqa: F401 - pytest fixtures
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "autograder"
SERVICE_USER = "postgres"  # who runs the server when the tests run as root
START_ATTEMPTS = 3  # the free port can be taken by someone else before the server binds it


class ServerError(Exception):
    """The server could not be set up; the message carries PostgreSQL's own log."""


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: Debian's versioned directory (newest) or PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running private server; ``stop()`` shuts it down and deletes its files."""

    bindir: Path
    base: Path  # owns everything: data/, the socket, the log
    port: int
    password: str
    run_as: tuple[str, ...]  # command prefix that drops root privileges, or ()
    host: str = "127.0.0.1"
    user: str = SUPERUSER

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def url(self, database: str) -> str:
        """The URL for nbgrader's ``CourseDirectory.db_url``.

        The driver is named: a bare ``postgresql://`` means psycopg 3 to SQLAlchemy 2.1, and the
        project depends on psycopg2.
        """
        return f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                password=self.password, dbname=database)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain database name: {name!r}")
        conn = self.connect()
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {name}")
        finally:
            conn.close()
        return self.url(name)

    def query(self, database: str, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Rows of one read-only query, straight from PostgreSQL (not through nbgrader)."""
        conn = self.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args],
                              capture_output=True, text=True, timeout=120)

    def log_tail(self, lines: int = 20) -> str:
        log = self.base / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self.pg_ctl("stop", "-m", "immediate", "-w")  # its files are deleted next
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start_server(bindir: Path) -> PostgresServer:
    """initdb a new cluster in a temporary directory and start it on a free loopback port."""
    run_as: tuple[str, ...] = ()
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVICE_USER)  # the fixture skips when there is no such user
        run_as = ("runuser", "-u", SERVICE_USER, "--")
    # Directly under the system temp dir: pytest's own tmp dirs are private to root, and a unix
    # socket path must stay short (about 100 bytes).
    base = Path(tempfile.mkdtemp(prefix="nn-autograder-pg-"))
    server = PostgresServer(bindir, base, port=0, password=secrets.token_hex(16), run_as=run_as)
    try:
        pwfile = base / "pwfile"
        pwfile.write_text(server.password + "\n")
        if owner is not None:
            for path in (base, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        initdb = subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER,
             f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
             "-E", "UTF8", "--no-locale", "--no-sync"],
            capture_output=True, text=True, timeout=300)
        if initdb.returncode != 0:
            raise _failure(server, initdb, "initdb")
        pwfile.unlink()
        for _ in range(START_ATTEMPTS):
            server.port = _free_port()
            # fsync off: a throw-away cluster needs no crash safety, and it spares the shared disk.
            options = (f"-c listen_addresses={server.host} -c port={server.port} "
                       f"-c unix_socket_directories={base} -c fsync=off")
            started = server.pg_ctl("start", "-w", "-t", "60", "-l", str(base / "server.log"), "-o", options)
            if started.returncode == 0:
                return server
        raise _failure(server, started, f"pg_ctl start ({START_ATTEMPTS} ports tried)")
    except BaseException:
        server.stop()
        raise


def _failure(server: PostgresServer, proc: subprocess.CompletedProcess[str], what: str) -> ServerError:
    return ServerError(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}\n"
                       f"{server.log_tail()}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL server for the session; skipped when PostgreSQL is not installed."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (run .ci/system-packages.sh as root)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no '{SERVICE_USER}' user to run PostgreSQL")
    server = start_server(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_database(pg_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """URL of a new, empty database named after the test."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:50]
    return pg_server.create_database(f"{name}_{secrets.token_hex(4)}")
