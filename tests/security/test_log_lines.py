"""The plain-text log (ILOKG_LOG_FORMAT=text, the default at a terminal) holds one line per event, whatever a client
sends: a request path is decoded before it is logged, so `%0A` was a line break that forged a log line of the
client's choosing, and `%1B[…` an escape sequence sent to the terminal reading the log. And a client's file cannot
make the log grow by a line per value it holds."""

import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import RunningServer

# (what the path holds, percent-encoded; how the log line shows it)
_CONTROLS = [
    ("%0AFORGED%20200", "\\nFORGED 200"),
    ("%0D%0A", "\\r\\n"),
    ("%1B%5B2J%1B%5B31m", "\\x1b[2J\\x1b[31m"),
    ("%00", "\\x00"),
    ("%07", "\\x07"),
    ("%7F", "\\x7f"),
    ("%C2%85", "\\x85"),  # NEL
    ("%C2%9B31m", "\\x9b31m"),  # CSI, the one-byte form
    ("%E2%80%A8", "\\u2028"),  # line separator
    ("%E2%80%A9", "\\u2029"),  # paragraph separator
]


@pytest.fixture(scope="module")
def text_logging_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("text-log") / "store", {"ILOKG_LOG_FORMAT": "text"}).start()
    yield running
    running.stop()


def _log_lines_with(server: RunningServer, marker: str) -> list[str]:
    """The log's lines that name marker, once there is one (the access line is written after the answer)."""
    log = server.store_dir.parent / "server.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text(encoding="utf-8").split("\n") if marker in line]
        if lines:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"no log line names {marker}")


def test_the_cases_were_found() -> None:
    assert len(_CONTROLS) == 10


@pytest.mark.parametrize(("encoded", "shown"), _CONTROLS, ids=[c[0] for c in _CONTROLS])
def test_a_path_with_control_characters_is_logged_on_one_line_escaped(
    text_logging_server: RunningServer, encoded: str, shown: str,
) -> None:
    request_id = uuid.uuid4().hex
    answer = httpx.get(f"{text_logging_server.url}/nothing/a{encoded}b", headers={"X-Request-ID": request_id})
    assert answer.status_code == 404
    lines = _log_lines_with(text_logging_server, request_id)
    assert len(lines) == 1
    assert f" INFO ilokg.access: GET /nothing/a{shown}b 404 " in lines[0]
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", lines[0])
    # Nothing of the path started a line of its own.
    log = (text_logging_server.store_dir.parent / "server.log").read_text(encoding="utf-8")
    assert not any(line.startswith(("FORGED", "b 404")) for line in log.split("\n"))


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_file_of_thousands_of_ill_typed_values_writes_no_traceback_to_the_log(
    tmp_path_factory: pytest.TempPathFactory, log_format: str,
) -> None:
    # rdflib logged a warning with a traceback for each literal not of its datatype, and the validation workers (spawned,
    # with no handler of their own) wrote them to the server's log as bare text: 2,000 values, 2,000 tracebacks.
    server = RunningServer(tmp_path_factory.mktemp(f"ill-typed-{log_format}") / "store", {"ILOKG_LOG_FORMAT": log_format})
    server.start()
    try:
        log = server.store_dir.parent / "server.log"
        before = log.stat().st_size
        integer = "<http://www.w3.org/2001/XMLSchema#integer>"
        body = "".join(f'<https://example.org/x{n}> <https://example.org/p> "abc{n}"^^{integer} .\n' for n in range(2000))
        request_id = uuid.uuid4().hex
        answer = httpx.post(server.url + "/validate", content=body.encode(), timeout=120,
                            headers={"Content-Type": "text/turtle", "X-Request-ID": request_id})
        assert answer.status_code == 200, answer.text
        assert answer.json()["violations"] >= 2000
        _log_lines_with(server, request_id)  # the access line comes after the answer, and the workers' lines before it
        added = log.read_text(encoding="utf-8")[before:].splitlines()
        assert not [line for line in added if "Traceback" in line or "Failed to convert" in line or "ValueError" in line]
        assert len(added) <= 10, added[:20]
        if log_format == "json":
            assert all(isinstance(json.loads(line), dict) for line in added)
    finally:
        server.stop()
