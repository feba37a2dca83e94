"""The formatting stage: a row's payee and note as its connector's standard writes them. ``DEFAULT``
keeps them as the file wrote them (trimmed); ``GSMA`` writes MSISDNs as bare digits (no ``+``, spaces,
dashes or brackets) and cuts notes to the GSMA API's 160 characters."""
from __future__ import annotations

import re

GSMA_NOTE_LENGTH = 160
PUNCTUATION = re.compile(r"[\s\-().]")


def payee(identifier: str, id_type: str, standard: str) -> str:
    """The payee identifier the connector is given."""
    written = identifier.strip()
    if standard == "GSMA" and id_type.strip().lower() in ("msisdn", ""):
        return PUNCTUATION.sub("", written).lstrip("+")
    return written


def note(text: str, standard: str) -> str:
    """The note the connector is given."""
    written = text.strip()
    return written[:GSMA_NOTE_LENGTH] if standard == "GSMA" else written
