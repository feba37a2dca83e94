"""domain/ stays pure: no framework, I/O or outer-layer imports (DESIGN.md, "Layers")."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"

FORBIDDEN = frozenset({
    "sqlalchemy", "dramatiq", "falcon", "redis", "pika", "requests", "httpx", "urllib3", "alembic",
    "apscheduler", "gunicorn", "structlog", "socket",
    # the project's own outer layers
    "adapters", "usecases", "actors", "workers", "web", "scheduler", "bootstrap", "demo", "sandbox",
})

DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _dynamic_target(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("x")`` or ``__import__("x")``, if literal."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """Every forbidden import in ``source``, as ``file:line module``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Call) and (target := _dynamic_target(node)):
            modules = [target]
        found += [f"{filename}:{node.lineno} {m}" for m in modules if _top(m) in FORBIDDEN]
    return found


def domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_domain_has_modules_to_check() -> None:
    names = {p.name for p in domain_files()}
    assert {"money.py", "ledger.py", "invariants.py", "schedules.py"} <= names


def test_domain_imports_nothing_forbidden() -> None:
    violations = [v for path in domain_files()
                  for v in forbidden_imports(path.read_text(encoding="utf-8"), str(path.relative_to(DOMAIN.parent)))]
    assert violations == []


@pytest.mark.parametrize("source", [
    "import sqlalchemy",
    "import sqlalchemy.orm as orm",
    "from sqlalchemy.orm import Session",
    "import os, dramatiq",
    "from falcon import Request",
    "import redis.asyncio",
    "import pika",
    "import requests",
    "from httpx import Client",
    "import urllib3",
    "from alembic import op",
    "from apscheduler.schedulers.blocking import BlockingScheduler",
    "import gunicorn",
    "import structlog",
    "import socket",
    "from adapters.db import uow",
    "import usecases.ledger",
    "from actors import ledger",
    "from bootstrap import build_container",
    "from web import app",
    "import scheduler.jobs",
    "def f():\n    import sqlalchemy\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from adapters.db.uow import UnitOfWork\n",
    "import importlib\nm = importlib.import_module('redis')",
    "m = __import__('socket')",
])
def test_checker_flags_a_bad_import(source: str) -> None:
    assert len(forbidden_imports(source)) == 1


@pytest.mark.parametrize("source", [
    "import enum\nfrom dataclasses import dataclass\nfrom decimal import Decimal",
    "from domain.money import Money",
    "import domain.ledger as ledger",
    "from . import clabe",
    "from .money import Money",
    "from zoneinfo import ZoneInfo",
    "import webbrowser_like_name_is_not_web",
    "import socketserver_is_not_socket",
    "import importlib\nm = importlib.import_module(name)",
])
def test_checker_accepts_pure_imports(source: str) -> None:
    assert forbidden_imports(source) == []


def test_checker_reports_file_and_line() -> None:
    assert forbidden_imports("import os\n\nimport redis\n", "domain/x.py") == ["domain/x.py:3 redis"]
