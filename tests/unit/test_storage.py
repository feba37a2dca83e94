"""Uploaded files are kept whole under their content's name, read in chunks, and never half-written."""
from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest

from adapters.storage import FileStorage, TooLarge


def test_a_file_is_kept_under_its_sha256_with_its_size_and_md5(tmp_path: Path) -> None:
    content = b"id,amount\n" + b"1,850\n" * 100_000
    stored = FileStorage(tmp_path).save(io.BytesIO(content).read, 10**7, "7", ".csv")
    assert stored.sha256 == hashlib.sha256(content).hexdigest() and stored.size == len(content)
    assert stored.md5_base64 == base64.b64encode(hashlib.md5(content).digest()).decode()
    assert stored.key == f"7/{stored.sha256}.csv"
    with FileStorage(tmp_path).open(stored.key) as f:
        assert f.read() == content


def test_the_same_content_twice_is_one_file(tmp_path: Path) -> None:
    storage = FileStorage(tmp_path)
    first, second = (storage.save(io.BytesIO(b"same").read, 100, "7", ".csv") for _ in range(2))
    assert first == second and len(list((tmp_path / "7").iterdir())) == 1


def test_a_file_over_the_limit_keeps_nothing(tmp_path: Path) -> None:
    with pytest.raises(TooLarge):
        FileStorage(tmp_path).save(io.BytesIO(b"x" * 1001).read, 1000, "7", ".csv")
    assert list((tmp_path / "7").iterdir()) == []
