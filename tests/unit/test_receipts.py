"""The PDF receipt as a person sees it: rendered with pdftoppm, long text (a failure reason, a timeline
detail) wraps inside the page instead of running off its right edge, and all of it is in the PDF."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.receipts import receipt_pdf

DPI = 72  # a pixel a point
MARGIN_POINTS = 36  # the page's last half inch on the right: nothing is drawn there

REASON = ("the payee's bank refused the credit transfer because the beneficiary account is blocked by court order "
          "pending review; contact the payee to obtain another account and submit the payment again <not markup> & "
          "AccountIdentifierWithoutAnySpaceInItThatIsLongerThanAnyColumnOfTheReceipt0123456789")
DETAIL = ("the connector answered after its deadline and the payment was confirmed by the status query; "
          "this detail is long on purpose so that it needs more than one line")


def payment() -> dict[str, object]:
    return {"uetr": "0f6e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "status": "failed", "amount": "1250.00",
            "currency": "MXN", "payee_name": "Mar*** Lóp***", "payee_account": "6461******0025", "rail": "SPEI",
            "execution_date": "2026-11-24", "delivery_date": "2026-11-24", "tracking_key": "DSP0000000001",
            "bank_reference": None, "batch_id": None, "reason": REASON,
            "timeline": [{"at": "2026-11-24T10:00:00Z", "event": "created"},
                         {"at": "2026-11-24T10:00:05Z", "event": "failed", "reason": DETAIL}]}


def words(text: str) -> str:
    return "".join(text.split())


def test_long_text_wraps_inside_the_page_and_is_all_in_the_pdf(tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is installed by .ci/ensure-services"
    pdf = receipt_pdf(payment(), "Banco Ejemplo (platform)", "2026-11-24 10:01 UTC")
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", str(DPI), "-gray", str(tmp_path / "receipt.pdf"), str(tmp_path / "page")],
                   check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.pgm"))
    assert pages
    for page in pages:
        width, height, pixels = read_pgm(page)
        inked = [x for y in range(height) for x in range(width - MARGIN_POINTS, width) if pixels[y * width + x] < 200]
        assert not inked, f"{page.name}: ink in the right margin, {len(inked)} pixels from x={min(inked)}"
    text = words("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert words(REASON) in text and words(DETAIL) in text


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """A binary PGM (P5) of 8-bit grey: its width, height and pixels, a byte each, row by row."""
    data = path.read_bytes()
    fields, at = [], 0
    while len(fields) < 4:
        while data[at:at + 1].isspace():
            at += 1
        end = at
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[at:end])
        at = end
    assert fields[0] == b"P5" and fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[at + 1:at + 1 + width * height]


@pytest.mark.parametrize("text", ["<b>bold</b> & <i>", "a" * 400])
def test_text_is_shown_as_written_never_as_markup(text: str) -> None:
    shown = {**payment(), "reason": text}
    pdf = receipt_pdf(shown, "Banco", "2026-11-24 10:01 UTC")
    assert words(text) in words("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
