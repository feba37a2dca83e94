"""JSON log lines (DISPERSA_LOG_JSON=1) carry the payment's UETR and tracking key."""
from __future__ import annotations

import json
import logging

from adapters.logs import JsonFormatter


def test_a_json_line_carries_the_payments_ids_and_the_traceback() -> None:
    record = logging.LogRecord("dispersa.events", logging.WARNING, __file__, 1, "%s: %s",
                               ("payment_order_error", "order DSP1 refused"), None)
    record.uetr, record.tracking_key, record.kind = "9f79e07a-2818-45ff-ab36-62c7615afa89", "DSP1", "payment_order_error"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "payment_order_error: order DSP1 refused" and line["level"] == "WARNING"
    assert (line["uetr"], line["tracking_key"], line["logger"]) == (record.uetr, "DSP1", "dispersa.events")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        failed = logging.LogRecord("dispersa", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["traceback"]
