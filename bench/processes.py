"""Which of the testbed's processes run during a scenario: started when needed, stopped when in the way."""
from __future__ import annotations

from testbed import Testbed

PRODUCT = ("web", "worker", "scheduler", "relay", "sandbox")


def running(bed: Testbed, name: str) -> bool:
    """Whether the testbed's process ``name`` is up."""
    process = bed.processes.get(name)
    return process is not None and process.alive


def ensure_running(bed: Testbed, *names: str) -> None:
    """Start those of ``names`` that are not running (the web is waited for until /health answers)."""
    for name in names:
        if not running(bed, name):
            bed.start(name)
    if "web" in names:
        bed.wait_for(lambda: healthy(bed), 90, "the API's /health")


def healthy(bed: Testbed) -> bool:
    """Whether the web process answers /health with 200."""
    with bed.api(timeout=5) as api:
        return api.get("/health").status_code == 200


def ensure_stopped(bed: Testbed, *names: str) -> None:
    """Stop those of ``names`` that are running."""
    for name in names:
        if running(bed, name):
            bed.processes[name].stop()


def roots(bed: Testbed) -> dict[str, int]:
    """Each running process of the testbed by name, with its pid (its children are its workers)."""
    return {name: p.popen.pid for name, p in bed.processes.items() if p.alive}


def pid_of(bed: Testbed, name: str) -> int:
    """The pid of a running process (the dramatiq or gunicorn master: its workers are its children)."""
    return bed.processes[name].popen.pid
