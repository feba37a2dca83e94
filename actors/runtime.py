"""The running process's container, set once by the worker bootstrap; actors read it."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.bootstrap import Container

_container: Container | None = None


def configure(container: Container) -> None:
    global _container
    _container = container


def container() -> Container:
    if _container is None:
        raise RuntimeError("actors used before workers.bootstrap configured the container")
    return _container
