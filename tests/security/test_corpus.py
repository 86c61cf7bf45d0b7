"""The hostile-input corpus (tests/security/corpus.py) against a real server, and through the CLI.

For every case: the expected 4xx (or CLI exit code) with words a person can act on; never a
5xx, a traceback or a server path; nothing received by a listener on 127.0.0.1; the canary
file's content (a file outside the data folder) nowhere in the answer; the store unchanged.
The suite asserts no timing (shared machines), only that no answer hangs (client timeout);
bench/hostile.py times each answer for RELIABILITY.md.
"""

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.problems import PROBLEM_JSON
from server.settings import Settings
from tests.security.corpus import CASES, HOSTILE, Case, Context
from tests.support.problems import problem_document
from tests.support.servers import SubmissionServer, run_cli, state

# A hung request fails the case; this is a bound against hanging, not a performance goal.
HANG = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubmissionServer]:
    running = SubmissionServer(tmp_path_factory.mktemp("security"), {
        "ILOKG_SUBMISSION_RATE": "10000/minute", "ILOKG_VALIDATION_RATE": "10000/minute",
    }).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "canary.ttl"
    path.write_text(f'<https://example.org/secret> <https://example.org/p> "CANARY-{secrets.token_hex(8)}" .\n')
    return path


def test_the_corpus_covers_every_entry_point_with_at_least_60_cases() -> None:
    assert len(CASES) + len(CLI_CASES) >= 60
    assert {c.entry for c in CASES} == {"sparql", "queries", "explore", "pages", "validate", "submissions"}
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_request_gets_a_clear_refusal_and_changes_nothing(
    server: SubmissionServer, canary: Path, listener: tuple[int, list[bytes]], settings: Settings, case: Case
) -> None:
    port, received = listener
    context = Context(server.url, f"http://127.0.0.1:{port}/", canary, server.tokens["alice"])
    before = state(server)
    request = case.build(context)
    response = httpx.request(request.method, server.url + request.path, timeout=HANG, **request.kwargs)
    body = response.text
    assert response.status_code == case.status, body[:500]
    assert response.status_code < 500
    # A refusal is problem details (or, to a browser on a submission page, that page); its message says why:
    # the detail, or for a file that does not conform, the findings of the report it carries.
    if response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        said = "\n".join(_texts(problem_document(response)))
    else:
        said = body
    assert case.message in said
    if response.status_code >= 400:
        assert said.strip(), "a refusal must say why"
    assert "Traceback" not in body and str(settings.data_dir.parent) not in body
    assert canary.read_text().split('"')[1] not in body
    assert state(server) == before
    time.sleep(0.2)  # (a connection would have arrived by now)
    assert received == []
    # Security headers on every answer, refusals included.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


# ---- the command line: exit code 2 for input it cannot safely read, with the file and the reason

CLI_CASES = [
    ("jsonld-remote-context", "c.jsonld", '{{"@context": "{listener}c.jsonld", "@id": "https://example.org/a"}}',
     "the JSON-LD refers to a remote @context"),
    ("jsonld-file-context", "c.jsonld", '{{"@context": "{canary}", "@id": "https://example.org/a"}}',
     "the JSON-LD refers to a remote @context"),
    ("rdfxml-entity-bomb", "bomb.rdf", (HOSTILE / "entity-bomb.rdf").read_text().replace("{", "{{").replace("}", "}}"),
     "RDF/XML entity declarations"),
    ("rdfxml-external-entity", "external.rdf",
     '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{canary}">]><rdf:RDF '
     'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="https://example.org/a">&e;'
     "</rdf:Description></rdf:RDF>", "RDF/XML entity declarations"),
    ("turtle-file-iri", "file.ttl", "<{canary}> <https://example.org/p> 1 .\n", "file: IRI"),
    ("turtle-relative-iri", "relative.ttl", "<../../etc/passwd> <https://example.org/p> 1 .\n", "relative IRI"),
    ("invalid-utf8", "bad.ttl", None, "UTF-8"),
]


@pytest.mark.parametrize("name, file_name, text, message", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_the_cli_refuses_hostile_files_with_exit_code_2(
    tmp_path: Path, canary: Path, listener: tuple[int, list[bytes]], name: str, file_name: str, text: str | None,
    message: str,
) -> None:
    port, received = listener
    path = tmp_path / file_name
    if text is None:
        path.write_bytes((HOSTILE / "invalid-utf8.ttl").read_bytes())
    else:
        path.write_text(text.format(listener=f"http://127.0.0.1:{port}/", canary=canary.as_uri()))
    result = run_cli("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert canary.read_text().split('"')[1] not in result.stderr + result.stdout
    time.sleep(0.2)
    assert received == []


def _texts(value: object) -> list[str]:
    """Every string in a JSON document, in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []
