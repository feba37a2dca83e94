"""A payment receipt as a PDF (reportlab): the UETR, the parties (masked), the amount, the dates, where the
payment stands and its timeline. Built from the tracking view, so that it shows what the API shows. Every
text is a paragraph of its cell, so that a long one (a failure reason, a timeline detail) wraps within the
page, and it is shown as written (escaped, never read as reportlab's markup)."""
from __future__ import annotations

import io
from typing import Any, Mapping
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FIELDS = (("UETR", "uetr"), ("Status", "status"), ("Amount", "amount_text"), ("Payee", "payee_name"),
          ("Payee account", "payee_account"), ("Rail", "rail"), ("Execution date", "execution_date"),
          ("Delivery date", "delivery_date"), ("Tracking key", "tracking_key"), ("Bank reference", "bank_reference"),
          ("Batch", "batch_id"), ("Reason", "reason"))
MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN  # what the tables may take: the page less its margins


def receipt_pdf(payment: Mapping[str, Any], payer: str, issued_at: str) -> bytes:
    """The receipt of one payment, as PDF bytes; ``payer`` names who paid (masked where it is an account)."""
    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["Normal"], fontSize=9, leading=11, splitLongWords=True)
    label = ParagraphStyle("label", parent=cell, fontName="Helvetica-Bold")

    def text(value: Any, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(str(value)), style)

    shown = dict(payment)
    shown["amount_text"] = f"{payment.get('amount') or ''} {payment.get('currency') or ''}".strip()
    rows = [[text("Payer", label), text(payer)]] + [[text(name, label), text(shown.get(key) or "-")]
                                                    for name, key in FIELDS]
    details = Table(rows, colWidths=[0.27 * WIDTH, 0.73 * WIDTH])
    details.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    timeline = Table([[text("When (UTC)", label), text("Event", label), text("Detail", label)]] + [
        [text(str(e.get("at", ""))[:19].replace("T", " ")), text(e.get("event", "")),
         text(e.get("reason") or e.get("bank_reference") or e.get("tracking_key") or "")]
        for e in payment.get("timeline", [])], colWidths=[0.24 * WIDTH, 0.18 * WIDTH, 0.58 * WIDTH], repeatRows=1)
    timeline.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Payment receipt {payment['uetr']}", author="dispersa",
                            leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN)
    doc.build([Paragraph("Payment receipt", styles["Title"]), text(f"Issued {issued_at}", styles["Normal"]),
               Spacer(1, 6 * mm), details, Spacer(1, 6 * mm), Paragraph("Timeline", styles["Heading2"]), timeline])
    return out.getvalue()
