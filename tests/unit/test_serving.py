"""The web process's gunicorn settings (workers/serving.py), as gunicorn reads them."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.e2e.support import free_port

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_two_web_processes_on_one_host_share_no_control_socket(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("def app(environ, start_response):\n"
                                       "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                                       "    return [b'hello']\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_") and k != "XDG_RUNTIME_DIR"}
    env.update({"HOME": str(tmp_path), "DISPERSA_WEB_WORKERS": "1"})
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen([str(GUNICORN), "-c", "python:workers.serving", "--bind", f"127.0.0.1:{port}",
                               "--pythonpath", str(tmp_path), "hello:app"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for port in ports]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                        assert answer.read() == b"hello"
                    break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not answer"
                    time.sleep(0.2)
        assert not (tmp_path / ".gunicorn").exists(), "a control socket in ~/.gunicorn, shared by every process"
    finally:
        for proc in procs:
            proc.terminate()
        logs = [proc.communicate(timeout=30)[1] for proc in procs]
    assert not any("control" in log.lower() for log in logs), logs
