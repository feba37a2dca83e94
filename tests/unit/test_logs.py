"""JSON log lines (DISPERSA_LOG_JSON=1) carry the payment's UETR and tracking key; a step's lines carry
the UETR or batch of its message; no line shows a CLABE whole."""
from __future__ import annotations

import io
import json
import logging
from typing import Any, Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker

from adapters.broker import LogContext
from adapters.logs import JsonFormatter, PaymentContext, enter, leave


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


def _handled(handler: logging.Handler, emit: Callable[[logging.Logger], None]) -> list[dict[str, Any]]:
    """What ``emit`` logs through ``handler`` (JSON with the payment context filter), one dict a line."""
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PaymentContext())
    logger = logging.getLogger("dispersa.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_of_a_step_carries_its_uetr_and_no_clabe_whole() -> None:
    uetr = "9f79e07a-2818-45ff-ab36-62c7615afa89"

    def emit(logger: logging.Logger) -> None:
        token = enter(uetr=uetr, message_id="m-1")
        logger.info("order for %s registered", "646180000000000025")
        logger.info("its own", extra={"uetr": "another"})
        leave(token)
        logger.info("after the step")

    inside, own, after = _handled(logging.StreamHandler(), emit)
    assert inside["message"] == "order for **************0025 registered"
    assert (inside["uetr"], inside["message_id"]) == (uetr, "m-1")
    assert own["uetr"] == "another"  # a line that names its payment keeps it
    assert "uetr" not in after and "message_id" not in after


def test_a_step_s_message_puts_its_uetr_or_batch_on_its_log_lines() -> None:
    broker = StubBroker()
    broker.add_middleware(LogContext({"send_payment_order": "uetr", "plan_batch": "batch_id"}))
    handler = logging.StreamHandler()

    def send_payment_order(uetr: str) -> None:
        logging.getLogger("dispersa.test-logs").warning("sending")

    def plan_batch(batch_id: str) -> None:
        logging.getLogger("dispersa.test-logs").warning("planning")

    for fn in (send_payment_order, plan_batch):
        dramatiq.actor(fn, broker=broker, queue_name="bank", max_retries=0)

    def emit(logger: logging.Logger) -> None:
        worker = dramatiq.Worker(broker, worker_timeout=50)
        worker.start()
        try:
            broker.actors["send_payment_order"].send("9f79e07a-2818-45ff-ab36-62c7615afa89")
            broker.actors["plan_batch"].send("b-7")
            broker.join("bank")
            worker.join()
        finally:
            worker.stop()

    seen = _handled(handler, emit)
    by_message = {line["message"]: line for line in seen}
    assert by_message["sending"]["uetr"] == "9f79e07a-2818-45ff-ab36-62c7615afa89"
    assert by_message["planning"]["batch_id"] == "b-7" and "uetr" not in by_message["planning"]
    assert by_message["sending"]["message_id"] != by_message["planning"]["message_id"]


def test_a_traceback_is_masked_and_a_malformed_call_is_left_to_logging() -> None:
    def emit(logger: logging.Logger) -> None:
        try:
            raise ValueError("no such account 646180000000000025")
        except ValueError:
            logger.exception("failed")
        logging.raiseExceptions, before = False, logging.raiseExceptions
        try:
            logger.warning("bad %d", "not a number")  # logging's own error handling, not an exception here
        finally:
            logging.raiseExceptions = before

    [failed] = _handled(logging.StreamHandler(), emit)
    assert "**************0025" in failed["traceback"] and "646180000000000025" not in failed["traceback"]
