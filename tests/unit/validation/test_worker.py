"""The validation worker reads a file once for its inspection and its validation, and never validates one file
with what it read of another."""

from pathlib import Path

import pytest

from server.store.context_walk import Context
from server.validation import worker
from server.validation.worker import ValidationJob

ROOT = Path(__file__).resolve().parents[3]
FIRST = (ROOT / "examples" / "first-submission.ttl").read_bytes()
OTHER = FIRST.replace(b"green-jobs", b"other-jobs").replace(b"in the Mekong", b"elsewhere")


@pytest.fixture(scope="module", autouse=True)
def _worker() -> None:
    worker.initialise(str(ROOT / "shapes"), str(ROOT / "ontology"))


def _job(data: bytes) -> ValidationJob:
    return ValidationJob(data, "turtle", "submission.ttl", 1000)


def test_a_file_validated_after_its_inspection_is_validated_as_if_read_afresh() -> None:
    afresh = worker.validate(_job(FIRST), Context(b""))
    worker.inspect(_job(FIRST))
    after = worker.validate(_job(FIRST), Context(b""))
    assert after.ntriples == afresh.ntriples and after.report.triples == afresh.report.triples > 10
    assert after.report.count("Violation") == afresh.report.count("Violation")


def test_another_file_is_never_validated_with_what_was_read_of_the_inspected_one() -> None:
    own = worker.validate(_job(OTHER), Context(b""))
    worker.inspect(_job(FIRST))
    validated = worker.validate(_job(OTHER), Context(b""))
    assert validated.ntriples == own.ntriples
    assert "other-jobs" in validated.ntriples and "green-jobs" not in validated.ntriples
