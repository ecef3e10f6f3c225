"""One log line per event; `--json-logs` makes them JSON lines a log shipper can read."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from campaign.secrets import scrub

LOGGER_NAME = "campaign.daemon"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower()}
        payload.update(getattr(record, "fields", {}) or {"event": "log", "message": record.getMessage()})
        if "message" not in payload:
            payload["message"] = record.getMessage()
        return json.dumps(payload, ensure_ascii=False, default=str)


class ScrubSecrets(logging.Filter):
    """Removes configured secrets and token-shaped text from every record this handler writes
    (a library's own log line, an exception message nobody scrubbed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure(json_lines: bool = False, level: int = logging.INFO) -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubSecrets())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    return logger


class EventLog:
    """`log.event("published", post_id=..., channel=..., message=...)` -> one line."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)

    def event(self, event: str, message: str = "", *, level: int = logging.INFO, **fields: Any) -> None:
        message = scrub(message)
        fields = {k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        shown = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        text = f"{event}: {message}" if message else event
        self.logger.log(level, f"{text} [{shown}]" if shown else text,
                        extra={"fields": {"event": event, **{k: v for k, v in fields.items() if v is not None},
                                          **({"message": message} if message else {})}})
