"""The legacy CLI run as a separate process, as an operator runs it."""

import asyncio
import os
import sys
from pathlib import Path

from tests.fixtures.resources import TEST_SECRET


def cli_env(postgres_url: str, mongo_url: str, mongo_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "MONGODB_"))}
    env.update(POSTGRES_URL=postgres_url, MONGODB_URL=mongo_url, MONGODB_DB=mongo_db,
               AUTH_SECRET=TEST_SECRET, PANAMIA_ENV="test", COLUMNS="200")
    return env


async def start_cli(env: dict[str, str], cwd: Path, *args: str,
                    quiet: bool = False) -> asyncio.subprocess.Process:
    """`python -m panamia.legacy.cli …`; `quiet` discards its output (a process that will be
    killed is never read from, and must not block on a full pipe)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "panamia.legacy.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    process = await start_cli(env, cwd, *args)
    out, _ = await process.communicate()
    return process.returncode, out.decode()
