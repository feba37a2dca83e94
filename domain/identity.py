"""An entity's id: none until its repository adds it, an integer from then on."""
from __future__ import annotations

from typing import Protocol


class HasId(Protocol):
    """Anything with an ``id``: an entity, stored or not yet."""

    @property
    def id(self) -> int | None:
        """The entity's id; None until its repository adds it."""
        ...


def id_of(entity: HasId) -> int:
    """The entity's id; asking before it was stored is a mistake in the calling code."""
    if entity.id is None:
        raise LookupError(f"{type(entity).__name__} has no id yet: its repository adds it")
    return entity.id
