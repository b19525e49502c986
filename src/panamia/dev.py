"""`panamia dev`: embedded servers, migrations, the main app and every sidecar, one Ctrl-C to
stop them all."""

import asyncio
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import uvicorn
from rich.console import Console

from panamia import demo, metrics
from panamia.db.embedded import EmbeddedMongo, EmbeddedPostgres
from panamia.logs import uvicorn_log_config
from panamia.resources import Resources
from panamia.schema import deploy
from panamia.settings import Settings, get_settings
from panamia.sidecar import registry

# Long URLs and paths are printed whole: a wrapped POSTGRES_URL cannot be copied.
console = Console(soft_wrap=True)
PR_SET_PDEATHSIG = 1


class DevError(RuntimeError):
    pass


def _die_with_parent() -> None:
    """Children get SIGTERM if `panamia dev` itself is killed, so no server outlives it."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _hold_lock(data_dir: Path):
    """One `panamia dev` per data dir. The kernel drops the lock when its holder dies."""
    handle = open(data_dir / "dev.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        raise DevError(f"another `panamia dev` (pid {holder}) is using {data_dir}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(port: int, process: subprocess.Popen, stopping, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stopping():
            return
        if process.poll() is not None:
            raise DevError(f"the service on port {port} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise DevError(f"nothing listened on port {port} within {timeout:.0f}s")


def _seed_demo(settings: Settings) -> bool:
    async def seed() -> bool:
        resources = Resources.open(settings, "cli")
        try:
            return await demo.seed_if_empty(resources)
        finally:
            await resources.close()

    return asyncio.run(seed())


def run(settings: Settings, *, host: str, ports: dict[str, int], with_demo: bool = True) -> int:
    """`ports` holds each service's port by name: "main" and every sidecar's."""
    data_dir = settings.panamia_data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with ExitStack() as cleanup:
        cleanup.enter_context(_hold_lock(data_dir))
        for port in ports.values():
            if not _port_free(host, port):
                raise DevError(f"port {port} is in use: stop what holds it or pass another port")
        env = dict(os.environ, PANAMIA_ENV="development", PANAMIA_DATA_DIR=str(data_dir),
                   FEDERATION_ALLOW_PRIVATE_NETWORKS="true")
        if not settings.postgres_url:
            postgres = EmbeddedPostgres(data_dir)
            cleanup.callback(postgres.stop)
            settings.postgres_url = postgres.start()
        if not settings.mongodb_url:
            mongo = EmbeddedMongo(data_dir)
            cleanup.callback(mongo.stop)
            settings.mongodb_url = mongo.start()
        settings.require_runtime()
        urls = {name: os.environ.get(_url_variable(name), f"http://localhost:{port}")
                for name, port in ports.items()}
        env.update(
            POSTGRES_URL=settings.postgres_url, MONGODB_URL=settings.mongodb_url,
            AUTH_SECRET=settings.secret,
            **{_url_variable(name): url for name, url in urls.items()},
        )
        console.print("applying migrations…")
        deploy.upgrade(settings.postgres_direct_url or settings.postgres_url)
        if with_demo and _seed_demo(settings):
            console.print(f"demo community added: sign in as {demo.SIGN_IN_EXAMPLE} "
                          f"through {env['AUTH_URL']}/dev/outbox")

        services = {}
        for name, port in ports.items():
            # Each service's series apart from the others', as `panamia serve` keeps them.
            metrics_dir = metrics.emptied(data_dir / "metrics" / name)
            process = subprocess.Popen(
                service_command(name, host, port), stdin=subprocess.DEVNULL,
                env=env | {metrics.MULTIPROCESS_DIR: str(metrics_dir)},
                preexec_fn=_die_with_parent,
            )
            cleanup.callback(_stop_process, process)
            services[name] = (port, process)
        for port, process in services.values():
            _wait_http(port, process, lambda: stopping)

        if not stopping:
            mail = ("sign-in mail goes out through SMTP_URL" if settings.smtp_url else
                    f"sign-in mail in the dev outbox at {env['AUTH_URL']}/dev/outbox "
                    "(JSON at /api/dev/outbox) and in this log")
            lines = [
                f"main app     {urls['main']}  (API docs at /docs)",
                *(f"{name + ' sidecar':<12} {url}" for name, url in urls.items() if name != "main"),
                f"POSTGRES_URL={settings.postgres_url}",
                f"MONGODB_URL={settings.mongodb_url}",
                f"data in {data_dir}",
                mail,
            ]
            console.print("\n[bold]panamia is running[/bold]")
            console.print("\n".join(f"  {line}" for line in lines), markup=False,
                          highlight=False)
            console.print("Press Ctrl-C to stop.\n")
        while not stopping:
            for name, (port, process) in services.items():
                # Ctrl-C reaches the services too; their exit is then part of stopping.
                if process.poll() is not None and not stopping:
                    console.print(f"[red]the {name} service exited ({process.returncode})[/red]")
                    return 1
            time.sleep(0.2)
        console.print("stopping…")
    console.print("stopped")
    return 0


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def service_command(service: str, host: str, port: int) -> list[str]:
    """How `panamia dev` starts a service: as `panamia serve` does, with the dev outbox on.
    No environment variable turns the outbox on for `panamia serve` itself."""
    return [sys.executable, "-m", "panamia.dev", service, host, str(port)]


def _url_variable(service: str) -> str:
    """Where a service's public URL is set: AUTH_URL for the main app, PETS_URL for pets."""
    return "AUTH_URL" if service == "main" else f"{service.upper()}_URL"


def _serve_with_dev_outbox(service: str, host: str, port: str) -> None:
    from panamia.apps import main

    if service == "main":
        create_app = main.create_app
    else:
        create_app = partial(registry.create_app, registry.find(service))
    settings = get_settings().with_dev_outbox()
    uvicorn.run(partial(create_app, settings), factory=True, host=host, port=int(port),
                log_config=uvicorn_log_config())


if __name__ == "__main__":
    _serve_with_dev_outbox(*sys.argv[1:])
