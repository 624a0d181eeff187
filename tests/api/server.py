"""Helpers to run the ``cocreate`` command line and a real ``cocreate serve`` process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.postgres import database_url_for

COCREATE = Path(sys.executable).with_name("cocreate")
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 240.0  # the first start builds the search index (encodes every text)


def cocreate_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a ``cocreate`` process: no inherited ``COCREATE_*`` settings
    but the session's vector cache (``vector_cache=""`` turns it off) and precisions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCREATE_")}
    # but the session's vector cache (tests/conftest.py): each text is encoded once
    if os.environ.get("COCREATE_VECTOR_CACHE"):
        env["COCREATE_VECTOR_CACHE"] = os.environ["COCREATE_VECTOR_CACHE"]
    # and the session's precisions (tests/conftest.py): the same rankings everywhere
    for name in ("COCREATE_ENCODER_PRECISION", "COCREATE_QUERY_PRECISION"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    # The code of this checkout, even when the installed package points at another one
    # (a git worktree sharing the virtual environment).
    env.update(COCREATE_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    env.update({f"COCREATE_{name.upper()}": value for name, value in settings.items()})
    on_postgresql = database_url_for(data_dir / "cocreate.db")  # tests/postgres.py
    if on_postgresql is not None and "database_url" not in settings:
        env["COCREATE_DATABASE_URL"] = on_postgresql
    return env


def cocreate(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run one ``cocreate`` command to completion; its standard output."""
    done = subprocess.run(
        [str(COCREATE), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"cocreate {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def create_key(env: dict[str, str], role: str, person: str | None = None) -> str:
    """A new API key made with ``cocreate keys create`` (the secret is its only stdout line)."""
    args = ["keys", "create", "--role", role]
    if person is not None:
        args += ["--person", person]
    lines = cocreate(env, *args).splitlines()
    assert len(lines) == 1, lines
    return lines[0].strip()


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on (just now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running ``cocreate serve`` process."""

    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def _wait_ready(server: Server, timeout: float, *, indexed: bool = True) -> None:
    """Until /ready answers 200 and, with ``indexed``, no longer says it is indexing (three
    answers in a row, which may come from different workers)."""
    deadline = time.monotonic() + timeout
    whole = 0
    with httpx.Client(base_url=server.url, timeout=2.0) as client:
        while True:
            code = server.process.poll()
            assert code is None, f"cocreate serve exited with {code}:\n{server.errors()}"
            try:
                ready = client.get("/ready")
                if ready.status_code == 200 and not indexed:
                    return
                whole = (
                    whole + 1 if ready.status_code == 200 and "indexing" not in ready.json() else 0
                )
                if whole >= 3:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"not ready in {timeout} s:\n{server.errors()}"
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextmanager
def serving(
    env: dict[str, str],
    logs: Path,
    *,
    timeout: float = READY_TIMEOUT,
    workers: int | None = None,
    indexed: bool = True,
) -> Iterator[Server]:
    """Start ``cocreate serve`` on a free loopback port; stop it (SIGTERM, then SIGKILL) after.

    ``workers`` is passed as ``--workers``; /ready then answers from whichever worker
    accepts the connection. ``indexed``: wait until the search index has every vector
    (the service answers before, searching new texts by their words).

    Its output goes to files under ``logs`` rather than pipes, so a chatty server can never
    block on a full pipe.
    """
    port = free_port()
    spread = ["--workers", str(workers)] if workers else []
    logs.mkdir(parents=True, exist_ok=True)
    stdout, stderr = logs / f"serve-{port}.out", logs / f"serve-{port}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(COCREATE), "serve", "--host", "127.0.0.1", "--port", str(port), *spread],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            server = Server(f"http://127.0.0.1:{port}", process, stdout, stderr)
            _wait_ready(server, timeout, indexed=indexed)
            yield server
        finally:
            _stop(process)
