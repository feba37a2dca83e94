"""What dispersa's wheel requires and ships: each runtime dependency is one the code uses, the tools of a
checkout (honcho) are an extra, and the Procfile the bench and chaos run is package data."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import testbed

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGES = ("domain", "usecases", "actors", "adapters", "web", "scheduler", "workers", "bootstrap", "demo", "sandbox",
            "testbed", "bench", "chaos")
# Distributions used without an import of their own name: gunicorn runs the web process (Procfile) and its
# gevent workers (workers/serving.py), which import packaging without requiring it.
USED_WITHOUT_IMPORT = {"gunicorn", "gevent", "packaging"}
MODULE_OF = {"pydantic-settings": "pydantic_settings", "prometheus-client": "prometheus_client", "pyyaml": "yaml"}


def distribution(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].strip().lower()


def imported_modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def test_every_runtime_dependency_is_used_by_the_code() -> None:
    imported = imported_modules()
    unused = [name for name in map(distribution, PROJECT["project"]["dependencies"])
              if name not in USED_WITHOUT_IMPORT and MODULE_OF.get(name, name.replace("-", "_")) not in imported]
    assert unused == [], f"required but never imported: {unused}"


def test_the_tools_of_a_checkout_are_an_extra_that_make_install_installs() -> None:
    runtime = set(map(distribution, PROJECT["project"]["dependencies"]))
    tools = set(map(distribution, PROJECT["project"]["optional-dependencies"]["tools"]))
    assert "honcho" in tools and not tools & runtime
    assert "tools" in re.search(r"pip install -q -e '\.\[([a-z,]+)\]'", (REPO / "Makefile").read_text()).group(1)


def test_the_procfile_the_testbed_runs_is_package_data_and_the_checkout_s_own() -> None:
    assert "Procfile" in PROJECT["tool"]["setuptools"]["package-data"]["testbed"]
    assert testbed.PROCFILE.parent == Path(testbed.__file__).resolve().parent
    assert testbed.PROCFILE.read_text() == (REPO / "Procfile").read_text()
