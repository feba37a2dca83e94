"""Payee data sealed at rest: account numbers and names are stored as tokens of AES-256-GCM (the
``cryptography`` package's AESGCM), under keys from DISPERSA_DATA_KEYS.

A token is ``v2.`` and the URL-safe base64 of: the sealing key's id (the first 4 bytes of the SHA-256 of
the key), a random 96-bit nonce, the ciphertext and its 128-bit tag. GCM authenticates what it seals and
where: the token's place (its table, column and row key, such as ``stores.clabe#14``) is its associated
data, so a token altered, sealed under another key, or copied to another row, column or table is refused,
never read wrong (a ``Misplaced`` value). The key id picks the key that unseals it, without trying each.
``v1.`` tokens, bound to no place, were written before revision 0015, which binds them.

The first key seals; every key listed unseals, so that a key can be rotated in while values sealed under
the old one are still read (``dispersa keys rotate`` re-seals them, after which the old key is dropped).
Random nonces keep a key safe for 2^32 values: rotate well before a key has sealed billions.
A value that must be found by equality (a closed-loop wallet's owner) also keeps a digest: an HMAC of the
value under a key derived from each data key, so that lookups try every key's digest and writes use the
first's. One keyring serves a process; the composition root loads it."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

INDEX_CONTEXT = b"dispersa wallet owner index"
SETTING = "DISPERSA_DATA_KEYS"
VERSION, UNBOUND = "v2.", "v1."
KEY_ID_BYTES, NONCE_BYTES = 4, 12


class KeysMissing(RuntimeError):
    """No data key is loaded: nothing sealed can be written or read."""


class Unreadable(RuntimeError):
    """A stored value was sealed under a key that is not among DISPERSA_DATA_KEYS (or is not a token)."""


class Misplaced(Unreadable):
    """A token that does not belong where it was read: copied from another row, column or table, or altered."""


class Bound(str):
    """Text to seal, with the key of the row it goes to (its place's last part)."""

    row_key: str

    def __new__(cls, text: str, row_key: object) -> Bound:
        bound = super().__new__(cls, text)
        bound.row_key = str(row_key)
        return bound




def place(table: str, column: str, row_key: object = "") -> str:
    """The associated data a token is bound to: ``table.column#row``."""
    return f"{table}.{column}#{row_key}"


def generate_key() -> str:
    """A new data key, as DISPERSA_DATA_KEYS lists it: 32 random bytes in URL-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _key_bytes(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.encode())
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"{SETTING}: each key is 32 bytes in URL-safe base64, as `dispersa keys generate` "
                         "prints them, separated by commas")
    return raw


class Keyring:
    """The data keys of this process: seals with the first, unseals with any, digests under each."""

    def __init__(self) -> None:
        self._ids: list[bytes] = []
        self._ciphers: dict[bytes, AESGCM] = {}
        self._index_keys: list[bytes] = []

    def load(self, keys: str) -> None:
        """Take the comma-separated keys of DISPERSA_DATA_KEYS, newest first. Raises KeysMissing when there
        is none and ValueError when one is not a key."""
        listed = [_key_bytes(k.strip()) for k in keys.split(",") if k.strip()]
        if not listed:
            raise KeysMissing(f"{SETTING} is not set: payee accounts and names are sealed with it. "
                              "`dispersa keys generate` prints a new key; `make up` writes a development one")
        self._ids = [hashlib.sha256(key).digest()[:KEY_ID_BYTES] for key in listed]
        self._ciphers = dict(zip(self._ids, (AESGCM(key) for key in listed)))
        self._index_keys = [hmac.new(key, INDEX_CONTEXT, hashlib.sha256).digest() for key in listed]

    @property
    def loaded(self) -> bool:
        return bool(self._ids)

    def _first(self) -> bytes:
        if not self._ids:
            raise KeysMissing(f"{SETTING} is not loaded in this process")
        return self._ids[0]

    def seal(self, text: str, at: str) -> str:
        """The token of ``text`` under the first key, bound to its place ``at`` (see ``place``)."""
        return self._seal(text, at.encode(), VERSION)

    def seal_unbound(self, text: str) -> str:
        """A token bound to no place, as revision 0011 wrote them (0015 binds them)."""
        return self._seal(text, None, UNBOUND)

    def _seal(self, text: str, data: bytes | None, version: str) -> str:
        key_id, nonce = self._first(), os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, text.encode(), data)
        return version + base64.urlsafe_b64encode(key_id + nonce + sealed).decode()

    def _parts(self, token: str, version: str = VERSION) -> tuple[bytes, bytes, bytes]:
        self._first()
        if not token.startswith(version):
            raise Unreadable("a stored value is not a sealed token" if not token.startswith(UNBOUND) else
                             "a stored value is sealed but bound to no place: run `dispersa db upgrade`")
        try:
            raw = base64.urlsafe_b64decode(token[len(version):].encode())
        except (ValueError, binascii.Error):
            raise Unreadable("a stored value is not a sealed token") from None
        head = KEY_ID_BYTES + NONCE_BYTES
        return raw[:KEY_ID_BYTES], raw[KEY_ID_BYTES:head], raw[head:]

    def unseal(self, token: str, at: str) -> str:
        """The text a token seals, under whichever key sealed it, when it was sealed for the place ``at``;
        Misplaced when it was not (or was altered), Unreadable when no key of ours sealed it."""
        return self._unseal(token, at.encode(), VERSION)

    def unseal_unbound(self, token: str) -> str:
        """The text of a token bound to no place (revision 0011's)."""
        return self._unseal(token, None, UNBOUND)

    def _unseal(self, token: str, data: bytes | None, version: str) -> str:
        key_id, nonce, sealed = self._parts(token, version)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise Unreadable(f"a stored value was sealed with a key that is not in {SETTING}")
        try:
            return cipher.decrypt(nonce, sealed, data).decode()
        except InvalidTag:
            raise Misplaced("a stored value does not belong where it was read: it was copied from another row "
                            "or column, or altered") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is sealed under the first key (a rotation leaves it alone)."""
        try:
            key_id, _, _ = self._parts(token)
        except Unreadable:
            return False
        return key_id == self._first()

    def reseal(self, token: str, at: str) -> str:
        """The same text sealed under the first key, for the same place."""
        return self.seal(self.unseal(token, at), at)

    def digest(self, text: str) -> str:
        """The digest writes store: under the first key."""
        return self.digests(text)[0]

    def digests(self, text: str) -> list[str]:
        """The digest of ``text`` under every key, the first key's first: what a lookup looks for."""
        self._first()
        return [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in self._index_keys]


KEYRING = Keyring()
