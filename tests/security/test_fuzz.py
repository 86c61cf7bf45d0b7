"""Fuzzing: schemathesis against the OpenAPI document of a real server, every operation (raw-body
ones through their declared content types), with a submitter's token so that the write
operations are reached too. Bounded in time for CI; zero server errors, zero answers that
the document does not describe (status, content type, JSON schema)."""

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import SubmissionServer

# Time budget of the run (schemathesis repeats fuzzing until it is spent) and its fixed seed,
# so that a failure in CI can be replayed as it was.
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
BUDGET_SECONDS = 90
SEED = 20261122
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubmissionServer]:
    running = SubmissionServer(tmp_path_factory.mktemp("fuzz"), {
        "ILOKG_SUBMISSION_RATE": "100000/minute", "ILOKG_VALIDATION_RATE": "100000/minute",
    }).start()
    yield running
    running.stop()


def test_no_server_error_and_no_undocumented_answer(server: SubmissionServer, tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is not installed (make setup installs the test extras)"
    result = subprocess.run([
        st, "run", server.url + "/openapi.json", "--checks", CHECKS, "--phases", "examples,coverage,fuzzing",
        "--max-examples", "25", "--max-time", str(BUDGET_SECONDS), "--seed", str(SEED), "--workers", "1",
        # Longer than any of the server's own deadlines (reading 10 s + validating 30 s, queued):
        # a request the server is still working on is not a client-side error.
        "--request-timeout", "120", "--no-shrink", "-H", f"Authorization: Bearer {server.tokens['alice']}",
        "--report", "junit", "--report-dir", str(tmp_path),
    ], capture_output=True, text=True, timeout=BUDGET_SECONDS + 300, cwd=tmp_path, check=False)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-output.txt").write_text(result.stdout)
    summary = result.stdout[-3000:]
    errors = result.stdout[result.stdout.find("ERRORS"):][:4000] if "ERRORS" in result.stdout else ""
    assert result.returncode == 0, errors + summary
    assert " passed" in summary and "failures" not in summary.splitlines()[-1], summary
