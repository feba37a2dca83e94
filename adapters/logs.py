"""Log lines as JSON (DISPERSA_LOG_JSON=1), one object a line, carrying the ids that let operations find
a payment: ``uetr``, ``tracking_key``, ``batch_id`` (and the store or transfer), when the line is about one."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

IDS = ("uetr", "tracking_key", "batch_id", "store_id", "bank_transfer_id", "kind")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time (UTC), level, logger, message, the ids it carries, and the
    traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({name: getattr(record, name) for name in IDS if getattr(record, name, None) is not None})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, as_json: bool) -> None:
    """The root logger of a process: JSON lines, or the plain format."""
    if as_json:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
