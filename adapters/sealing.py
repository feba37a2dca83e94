"""Payee data sealed at rest: account numbers and names are stored as Fernet tokens (AES-128-CBC with an
HMAC-SHA256, from ``cryptography``), under keys from DISPERSA_DATA_KEYS.

The first key seals; every key listed unseals, so that a key can be rotated in while values sealed under
the old one are still read (``dispersa keys rotate`` re-seals them, after which the old key is dropped).
A value that must be found by equality (a closed-loop wallet's owner) also keeps a digest: an HMAC of the
value under a key derived from each data key, so that lookups try every key's digest and writes use the
first's. One keyring serves a process; the composition root loads it."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

INDEX_CONTEXT = b"dispersa wallet owner index"
SETTING = "DISPERSA_DATA_KEYS"


class KeysMissing(RuntimeError):
    """No data key is loaded: nothing sealed can be written or read."""


class Unreadable(RuntimeError):
    """A stored value was sealed under a key that is not among DISPERSA_DATA_KEYS."""


def generate_key() -> str:
    """A new data key, as DISPERSA_DATA_KEYS lists it."""
    return Fernet.generate_key().decode()


class Keyring:
    """The data keys of this process: seals with the first, unseals with any, digests under each."""

    def __init__(self) -> None:
        self._fernets: list[Fernet] = []
        self._all: MultiFernet | None = None
        self._index_keys: list[bytes] = []

    def load(self, keys: str) -> None:
        """Take the comma-separated keys of DISPERSA_DATA_KEYS, newest first. Raises KeysMissing when there
        is none and ValueError when one is not a key."""
        listed = [k.strip() for k in keys.split(",") if k.strip()]
        if not listed:
            raise KeysMissing(f"{SETTING} is not set: payee accounts and names are sealed with it. "
                              "`dispersa keys generate` prints a new key; `make up` writes a development one")
        try:
            fernets = [Fernet(k) for k in listed]
        except (ValueError, binascii.Error):
            raise ValueError(f"{SETTING}: each key is 32 bytes in URL-safe base64, as `dispersa keys generate` "
                             "prints them, separated by commas") from None
        self._fernets = fernets
        self._all = MultiFernet(fernets)
        self._index_keys = [hmac.new(base64.urlsafe_b64decode(k), INDEX_CONTEXT, hashlib.sha256).digest()
                            for k in listed]

    @property
    def loaded(self) -> bool:
        return self._all is not None

    def _keys(self) -> MultiFernet:
        if self._all is None:
            raise KeysMissing(f"{SETTING} is not loaded in this process")
        return self._all

    def seal(self, text: str) -> str:
        """The token of ``text`` under the first key."""
        return self._keys().encrypt(text.encode()).decode()

    def unseal(self, token: str) -> str:
        """The text a token seals, under whichever key sealed it; Unreadable when none of ours did."""
        try:
            return self._keys().decrypt(token.encode()).decode()
        except InvalidToken:
            raise Unreadable(f"a stored value was sealed with a key that is not in {SETTING} (or it is not "
                             "sealed at all)") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is sealed under the first key (a rotation leaves it alone)."""
        self._keys()
        try:
            self._fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str:
        """The same text sealed under the first key."""
        try:
            return self._keys().rotate(token.encode()).decode()
        except InvalidToken:
            raise Unreadable(f"a stored value was sealed with a key that is not in {SETTING}") from None

    def digest(self, text: str) -> str:
        """The digest writes store: under the first key."""
        return self.digests(text)[0]

    def digests(self, text: str) -> list[str]:
        """The digest of ``text`` under every key, the first key's first: what a lookup looks for."""
        self._keys()
        return [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in self._index_keys]


KEYRING = Keyring()
