"""The keyring: sealing with the first key for a place, reading with any key at that place only, rotating,
and digests under every key."""
from __future__ import annotations

import base64

import pytest

from adapters.sealing import Keyring, KeysMissing, Misplaced, Unreadable, generate_key, place

HERE = place("stores", "clabe", 14)


def ring(*keys: str) -> Keyring:
    r = Keyring()
    r.load(",".join(keys))
    return r


def test_a_sealed_value_reads_back_and_never_shows_or_repeats_itself() -> None:
    r = ring(generate_key())
    first, second = r.seal("646180000000000025", HERE), r.seal("646180000000000025", HERE)
    assert first != second and "646180000000000025" not in first
    assert r.unseal(first, HERE) == r.unseal(second, HERE) == "646180000000000025"
    assert r.unseal(r.seal("José Pérez", HERE), HERE) == "José Pérez"


def test_a_token_read_in_another_row_column_or_table_is_refused() -> None:
    r = ring(generate_key())
    token = r.seal("646180000000000025", HERE)
    for elsewhere in (place("stores", "clabe", 2), place("stores", "validated_clabe", 14),
                      place("payment_orders", "clabe", 14), place("stores", "clabe", "")):
        with pytest.raises(Misplaced, match="copied from another row"):
            r.unseal(token, elsewhere)


def test_no_key_and_a_malformed_key_are_refused_with_what_to_do() -> None:
    with pytest.raises(KeysMissing, match="dispersa keys generate"):
        Keyring().load(" , ")
    with pytest.raises(ValueError, match="32 bytes in URL-safe base64"):
        Keyring().load("not-a-key")
    with pytest.raises(KeysMissing):
        Keyring().seal("x", HERE)


def test_a_new_key_first_reads_the_old_keys_values_and_rotation_moves_them_to_it() -> None:
    old, new = generate_key(), generate_key()
    token = ring(old).seal("646180000000000025", HERE)
    rotating = ring(new, old)
    assert rotating.unseal(token, HERE) == "646180000000000025" and not rotating.is_current(token)
    moved = rotating.reseal(token, HERE)
    assert rotating.is_current(moved) and ring(new).unseal(moved, HERE) == "646180000000000025"
    with pytest.raises(Unreadable):
        ring(new).unseal(token, HERE)  # the old key dropped before the rotation: its values are lost to us


def test_digests_are_stable_per_key_and_a_lookup_tries_every_key() -> None:
    old, new = generate_key(), generate_key()
    assert ring(old).digest("5215512345678") == ring(old).digest("5215512345678")
    assert ring(new, old).digests("5215512345678") == [ring(new).digest("5215512345678"),
                                                       ring(old).digest("5215512345678")]
    assert ring(old).digest("5215512345678") != ring(old).digest("5215512345679")


def test_an_altered_token_or_a_plain_value_is_refused_never_read_wrong() -> None:
    r = ring(generate_key())
    token = r.seal("646180000000000025", HERE)
    assert token.startswith("v2.") and r.is_current(token)
    body = bytearray(base64.urlsafe_b64decode(token[3:]))
    body[-1] ^= 1  # one bit of the tag
    with pytest.raises(Unreadable, match="altered"):
        r.unseal("v2." + base64.urlsafe_b64encode(bytes(body)).decode(), HERE)
    for plain in ("646180000000000025", "v2.not-base64!", ""):
        with pytest.raises(Unreadable):
            r.unseal(plain, HERE)
        assert not r.is_current(plain)


def test_an_unbound_token_of_revision_0011_is_read_only_as_unbound() -> None:
    r = ring(generate_key())
    old = r.seal_unbound("646180000000000025")
    assert old.startswith("v1.") and r.unseal_unbound(old) == "646180000000000025"
    with pytest.raises(Unreadable, match="bound to no place"):
        r.unseal(old, HERE)
