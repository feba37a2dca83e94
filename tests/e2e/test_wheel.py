"""dispersa installed from its wheel, outside any checkout: `dispersa bench` and `dispersa chaos` find the
Procfile the wheel ships (or the one --procfile names), and the tools-only dependencies stay out of it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import MYSQL_URL

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin directory of a fresh virtualenv with dispersa's wheel installed, built from the checkout's
    files (tracked and new, not ignored), so that nothing left in build/ gets in."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout
    subprocess.run(["tar", "-cf", str(work / "source.tar"), "--null", "-T", "-"], cwd=REPO, input=files, check=True)
    shutil.unpack_archive(work / "source.tar", source)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(source)], check=True,
                   capture_output=True, timeout=300)
    [wheel] = (work / "dist").glob("dispersa-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, timeout=120)
    subprocess.run([str(work / "venv" / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=600)
    return work / "venv" / "bin"


def bed_name(suffix: str) -> str:
    """Beside the test database (``<test db>_<suffix>``), so that other runs do not share it."""
    return f"{str(make_url(MYSQL_URL).database).removeprefix('dispersa_')}_{suffix}"


def dispersa(bin_dir: Path, cwd: Path, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPERSA_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(bin_dir / "dispersa"), *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_ships_the_procfile_and_not_the_tools(installed: Path) -> None:
    shipped = subprocess.run([str(installed / "python"), "-c", "import testbed; print(testbed.PROCFILE)"],
                             cwd="/", capture_output=True, text=True, check=True).stdout.strip()
    assert "site-packages" in shipped and Path(shipped).read_text() == (REPO / "Procfile").read_text()
    assert not (installed / "honcho").exists(), "honcho is a tool of the checkout (the tools extra)"
    for command in ("bench", "chaos"):
        helped = dispersa(installed, Path("/"), command, "--help")
        assert helped.returncode == 0 and "--procfile" in helped.stdout and "--redis-db" in helped.stdout
        assert "--name" in helped.stdout
        missing = dispersa(installed, Path("/"), command, "--procfile", "/nonexistent/Procfile")
        errors = [line for line in missing.stderr.splitlines() if line.strip()]
        assert missing.returncode == 2 and len(errors) == 1 and "/nonexistent/Procfile" in errors[0], missing.stderr


@pytest.mark.timeout(900)
def test_an_installed_bench_runs_its_scenario_on_the_shipped_procfile(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = dispersa(installed, tmp_path, "bench", "--quick", "--only", "verify", "--raw-messages", "200",
                    "--ledger-updates", "2000", "--processes", "1", "--threads", "2", "--web-workers", "1",
                    "--name", bed_name("wheel_bench"), "--redis-db", "10", "--out", str(out), timeout=840)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "FileNotFoundError" not in done.stderr
    results = {row["key"]: row for row in json.loads(out.read_text())["results"]}
    assert results["verify"]["status"] == "measured", results["verify"]
    assert json.loads(out.read_text())["testbed"]["database"] == f"dispersa_{bed_name('wheel_bench')}"


@pytest.mark.timeout(900)
def test_an_installed_chaos_runs_on_the_procfile_it_is_given(installed: Path, tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    shutil.copy(REPO / "Procfile", procfile)
    done = dispersa(installed, tmp_path, "chaos", "--quick", "--credits", "20", "--faults", "1", "--bulk-rows", "0",
                    "--kinds", "kill:relay", "--settle-timeout", "240", "--procfile", str(procfile), "--name",
                    bed_name("wheel_chaos"), "--redis-db", "10", "--workdir", str(tmp_path / "work"), timeout=840)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "FileNotFoundError" not in done.stdout + done.stderr and "PASSED: " in done.stdout
