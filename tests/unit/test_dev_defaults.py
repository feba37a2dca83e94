"""What a new user gets from `make up` without setting anything: the STP sandbox liquidates every order
(the `happy` scenario), so that the README's walkthrough ends with a liquidated transfer."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from workers import cli

REPO = Path(__file__).resolve().parents[2]


def test_the_dev_stacks_sandbox_liquidates_every_order_unless_told_otherwise() -> None:
    line = next(line for line in (REPO / "Procfile.dev").read_text().splitlines() if line.startswith("sandbox:"))
    assert re.search(r"--scenario \$\{DISPERSA_SANDBOX_SCENARIO:-happy\}", line)
    default = inspect.signature(cli.sandbox).parameters["scenario"].default
    assert default.default == "happy"
