"""``dispersa dates``: the ISO date alone on stdout, fixed by --as-of; one line and a non-zero exit for
an unknown rail, a bad date, a date outside the calendars' years or one already past."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

DISPERSA = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dispersa"


def dates(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DISPERSA), "dates", *argv], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("argv, printed", [
    (("execution", "--rail", "SPEI", "--delivery-date", "2025-12-12", "--as-of", "2025-12-01"), "2025-12-11"),
    (("execution", "--rail", "SWIFT", "--delivery-date", "2027-01-01", "--as-of", "2026-12-01"), "2026-12-29"),
    (("execution", "--rail", "SEPA", "--country", "DE", "--delivery-date", "2025-10-06", "--as-of", "2025-09-01"),
     "2025-10-02"),
    (("delivery", "--rail", "FPS", "--execution-date", "2026-04-03", "--as-of", "2026-03-01"), "2026-04-07"),
    (("execution", "--rail", "SPEI", "--delivery-date", "2026-12-01", "--as-of", "2026-12-01"), "2026-12-01"),
])
def test_each_command_prints_only_the_iso_date(argv: tuple[str, ...], printed: str) -> None:
    done = dates(*argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed + "\n"


@pytest.mark.parametrize("argv, words", [
    (("execution", "--rail", "ACH", "--delivery-date", "2026-12-01"), "unknown rail 'ACH'"),
    (("execution", "--rail", "SPEI", "--delivery-date", "2026-02-30"), "is not a date"),
    (("execution", "--rail", "SPEI", "--delivery-date", "2040-01-02", "--as-of", "2026-12-01"),
     "outside the calendars' years"),
    (("execution", "--rail", "SPEI", "--delivery-date", "2026-11-30", "--as-of", "2026-12-01"),
     "the earliest delivery date is 2026-12-01"),
    (("delivery", "--rail", "SWIFT", "--execution-date", "2026-11-02", "--as-of", "2026-12-01"),
     "the earliest execution date is 2026-12-01"),
    (("execution", "--rail", "SEPA", "--country", "ZZ", "--delivery-date", "2026-12-01", "--as-of", "2026-11-01"),
     "no public holiday calendar"),
])
def test_a_refusal_is_one_line_and_a_non_zero_exit(argv: tuple[str, ...], words: str) -> None:
    done = dates(*argv)
    assert done.returncode == 2 and done.stdout == ""
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
