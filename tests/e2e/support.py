"""What the end-to-end tests share: the checkout, free ports, a fresh database, processes started as a
user would start them (each in its own process group, output in files, always stopped), and waits."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import MYSQL_URL

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(suffix: str, create: bool = True) -> URL:
    """The test database's sibling ``<test db>_<suffix>``, dropped (and created empty, utf8mb4)."""
    url = make_url(MYSQL_URL).set(database=f"{make_url(MYSQL_URL).database}_{suffix}")
    engine = create_engine(url.set(database=""))
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        if create:
            conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
    engine.dispose()
    return url


def wait_for(check: Callable[[], Any], timeout: float, what: str, logs: Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- process output ---\n{logs()}")


class Processes:
    """Started in their own process groups, with output in files, and always stopped."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir, self.env, self.procs = workdir, env, []

    def start(self, name: str, *argv: str) -> None:
        out = open(self.workdir / f"{name}.log", "wb")
        self.procs.append((name, subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=out,
                                                  stderr=subprocess.STDOUT, start_new_session=True)))

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"[{name}] " + (self.workdir / f"{name}.log").read_text(errors="replace")[-tail:]
                         for name, _ in self.procs)

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()
