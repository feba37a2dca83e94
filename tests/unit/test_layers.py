"""Which way imports point: nothing in the product knows the STP sandbox exists, except the CLI command
that serves it and the embedded demo that pays through it."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("domain", "usecases", "actors", "adapters", "workers", "web", "scheduler", "bootstrap", "demo")
MAY_USE_SANDBOX = {"workers/cli.py", "demo/__init__.py"}


def imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_checker_sees_nested_and_from_imports():
    source = "def f():\n    from sandbox.server import run_sandbox\nimport sandbox"
    assert {"sandbox.server", "sandbox"} <= imported_modules(source)


def test_only_the_cli_and_the_demo_import_the_sandbox():
    offenders = []
    for package in PRODUCT:
        for path in (REPO / package).rglob("*.py"):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith("sandbox/") or rel in MAY_USE_SANDBOX:
                continue
            if any(m.startswith("sandbox") for m in imported_modules(path.read_text())):
                offenders.append(rel)
    assert offenders == []
