"""The hub's log: uvicorn's lines and ours, with invite tokens taken out.

Programs may still pass a token in a URL (``?token=``, as the wire contract
allows), and uvicorn logs every request's path: every handler redacts
tokens before a line is written, so the log never undoes what storing
only the tokens' hashes achieves.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_TOKEN = re.compile(r"((?:^|[?&\s\"'])token=)[^&\s\"']+")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Redacts ``token=…`` in a record's message and arguments (uvicorn's
    access lines carry the path as an argument, which their formatter
    needs to stay a tuple of the same shape)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, with the redaction on every handler and the
    hub's own loggers (``courtroom``, ``asr``) going through it too, at
    ``level`` (uvicorn sets its own loggers' level from the same option)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact")
    for name in ("courtroom", "asr"):
        config["loggers"][name] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config
