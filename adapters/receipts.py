"""A payment receipt as a PDF (reportlab): the UETR, the parties (masked), the amount, the dates, where the
payment stands and its timeline. Built from the tracking view, so that it shows what the API shows."""
from __future__ import annotations

import io
from typing import Any, Mapping

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FIELDS = (("UETR", "uetr"), ("Status", "status"), ("Amount", "amount_text"), ("Payee", "payee_name"), ("Payee account", "payee_account"),
          ("Rail", "rail"), ("Execution date", "execution_date"), ("Delivery date", "delivery_date"),
          ("Tracking key", "tracking_key"), ("Bank reference", "bank_reference"), ("Batch", "batch_id"),
          ("Reason", "reason"))


def receipt_pdf(payment: Mapping[str, Any], payer: str, issued_at: str) -> bytes:
    """The receipt of one payment, as PDF bytes; ``payer`` names who paid (masked where it is an account)."""
    styles = getSampleStyleSheet()
    shown = dict(payment)
    shown["amount_text"] = f"{payment.get('amount') or ''} {payment.get('currency') or ''}".strip()
    rows = [["Payer", payer]] + [[label, str(shown.get(key) or "-")] for label, key in FIELDS]
    details = Table(rows, colWidths=[45 * mm, 120 * mm])
    details.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                                 ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    timeline = Table([["When (UTC)", "Event", "Detail"]] + [
        [str(e.get("at", ""))[:19].replace("T", " "), e.get("event", ""),
         str(e.get("reason") or e.get("bank_reference") or e.get("tracking_key") or "")[:60]]
        for e in payment.get("timeline", [])], colWidths=[40 * mm, 30 * mm, 95 * mm])
    timeline.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                                  ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Payment receipt {payment['uetr']}", author="dispersa")
    doc.build([Paragraph("Payment receipt", styles["Title"]), Paragraph(f"Issued {issued_at}", styles["Normal"]),
               Spacer(1, 6 * mm), details, Spacer(1, 6 * mm), Paragraph("Timeline", styles["Heading2"]), timeline])
    return out.getvalue()
