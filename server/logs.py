"""Logging of the server: JSON lines for machines (one object per event, with its request id), plain
text for a person at a terminal; by default (ILOKG_LOG_FORMAT=auto) text exactly when standard
error is a terminal."""

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter


def configure(log_format: str) -> None:
    """Send every logger's records (uvicorn's included) to standard error in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "auto":
        log_format = "text" if sys.stderr.isatty() else "json"
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(_PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_drop_colours)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # httpx logs every request at INFO: the writes to an external store (each lease step) would flood the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # rdflib logs a warning with a traceback for every literal whose text is not of its datatype: a client's file
    # of 50,000 such values would write 50,000 tracebacks. Each is a finding of the report, where it belongs.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)


def _drop_colours(record: logging.LogRecord) -> bool:
    # uvicorn attaches a copy of some messages with terminal colour codes.
    record.__dict__.pop("color_message", None)
    return True


# C0 and C1 controls (line breaks, ESC…) and the Unicode line and paragraph separators.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _PlainFormatter(logging.Formatter):
    """Text lines whose messages cannot break the line or drive the terminal.

    A message carries what clients sent (a path decoded from `%0A`, `%1B[2J`): written as is, it could forge
    log lines or send escape sequences to the terminal reading them. (JSON lines escape them already.)
    A traceback, appended after the message, keeps its own lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), record.message)
        return super().formatMessage(record)
