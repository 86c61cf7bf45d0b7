"""Shared fixtures: the project's settings, graphs and a validator, each built once."""

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from playwright.sync_api import Browser, sync_playwright
from rdflib import Graph

from server.rdf.project_graphs import load_folder, turtle_files
from server.settings import Settings, get_settings
from server.submissions.plan import DataValidator
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, GuardedPage
from tests.support.engines import BACKENDS, backend
from tests.support.servers import RunningServer, SubmissionServer, withdraw_all


def pytest_configure(config: pytest.Config) -> None:
    """Keep the suite off the developer's own store (var/store, with whatever they submitted): every
    setting, CLI and server of the run reads a store folder of its own, empty until a test fills it."""
    os.environ["ILOKG_STORE_DIR"] = str(Path(tempfile.mkdtemp(prefix="ilokg-tests-")) / "store")
    # The explorer's warm-up runs queries in the background whenever the data changes: the tests that count workers or
    # jobs would see them. It is off for the suite's servers and tested on servers of its own (test_explore.py).
    os.environ["ILOKG_EXPLORER_WARMUP"] = "false"
    _patient_clients()


# A test's HTTP client waits longer than any deadline of the server (queries 10 s, validations and writes
# less than a minute): on a busy machine the server's own deadlines decide what a request gets, never
# httpx's default of 5 s (a validation on Virtuoso once took longer beside the rest of the suite on two
# cores, and the test failed on the client's impatience, not on anything the server did). A test that
# means to give up sooner says so with its own timeout.
PATIENT = httpx.Timeout(120.0)


def _patient_clients() -> None:
    functions = [httpx.request, httpx.get, httpx.post, httpx.put, httpx.patch, httpx.delete, httpx.head, httpx.options,
                 httpx.stream.__wrapped__, httpx.Client.__init__, httpx.AsyncClient.__init__]  # type: ignore[attr-defined]
    for function in functions:
        defaults = function.__kwdefaults__
        assert defaults is not None and "timeout" in defaults, function
        defaults["timeout"] = PATIENT


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def ontology(settings: Settings) -> Graph:
    return load_folder(settings.ontology_dir)


@pytest.fixture(scope="session")
def shapes(settings: Settings) -> Graph:
    return load_folder(settings.shapes_dir)


@pytest.fixture(scope="session")
def data(settings: Settings) -> Graph:
    return load_folder(settings.data_dir)


@pytest.fixture(scope="session")
def validator_with_data(settings: Settings) -> DataValidator:
    return DataValidator(settings)


@pytest.fixture(scope="session")
def store(settings: Settings) -> ox.Store:
    """The ontology and bundled data in an in-memory store, for fact queries."""
    store = ox.Store()
    for folder in (settings.ontology_dir, settings.data_dir):
        for path in turtle_files(folder):
            store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            received.append(connection.recv(4096))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


# The stores the HTTP suites of the endpoint, the canned queries, linked data, the dataset and submissions run
# against (see tests/support/engines.py): the embedded store, and two external SPARQL engines. The security, load,
# browser, federation and command-line suites run on the embedded store only (federation exists only there).
BACKEND_SUITES = {
    "test_sparql_endpoint", "test_queries_api", "test_linked_data", "test_dataset", "test_w3c_protocol",
    "test_submissions", "test_head", "test_answer_cache",
}


# Where Virtuoso Open Source 7.2.5 (Debian's) answers otherwise than the standard and the embedded store: each such
# test runs on it as a strict expected failure (it fails the suite if Virtuoso starts to agree, so the list stays
# true). The README's deployment section says the same to operators.
VIRTUOSO_DIFFERS = {
    "test_every_query_answers_its_exact_rows_on_the_bundled_data":
        "its SPARQL compiler fails an alternative path beside a `!BOUND(?p) || EXISTS {…}` filter (internal error "
        "sparp_tree_full_clone_int; queries/README.md)",
    "test_a_duration_of_months_and_days_or_of_many_digits_of_seconds_keeps_its_value":
        "a duration is held as a count of months or of seconds: one of both loses its seconds (P1Y1D comes back "
        "as P1Y), and seconds are given back to six digits (P12DT1S, 1,036,801 s, as P12D; openlink/"
        "virtuoso-opensource#936)",
    "test_a_double_comes_back_with_all_its_digits":
        "doubles and floats are given back to six significant digits (0.1234567891 as 0.123457; openlink/"
        "virtuoso-opensource#1006, #574)",
}

# The cases of parametrised tests that differ on Virtuoso (by their ids without the backend); other cases must agree.
VIRTUOSO_CASES = {
    "test_every_query_answers_its_exact_rows_on_the_bundled_data": {'explore-countries-1'},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_virtuoso = callspec is not None and "virtuoso" in (callspec.params.get("sparql_server"),
                                                               callspec.params.get("submission_server"))
        name = getattr(item, "originalname", item.name)
        reason = VIRTUOSO_DIFFERS.get(name)
        case = callspec.id.removeprefix("virtuoso").removeprefix("-") if callspec is not None else ""
        if name in VIRTUOSO_CASES and case not in VIRTUOSO_CASES[name]:
            reason = None
        if on_virtuoso and reason is not None:
            item.add_marker(pytest.mark.xfail(reason=f"Virtuoso 7.2.5: {reason}", strict=True))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    suite = metafunc.module.__name__.rsplit(".", 1)[-1]
    for name in ("sparql_server", "submission_server"):
        if name in metafunc.fixturenames:
            backends = BACKENDS if suite in BACKEND_SUITES else ("embedded",)
            metafunc.parametrize(name, backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def sparql_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the endpoint tests on each kind of store; answers over 3 MB are refused (to test the limit)."""
    folder = tmp_path_factory.mktemp(f"store-{request.param}")
    with backend(request.param, folder / "engine") as env:
        server = RunningServer(folder / "store", {"ILOKG_MAX_RESULT_BYTES": "3000000", **env}).start()
        server.backend = request.param
        yield server
        server.stop()


@pytest.fixture(scope="session")
def submission_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubmissionServer]:
    """One server for the submission tests on each kind of store; generous rates, and a triple limit (10,000)
    low enough to test cheaply and above Virtuoso's limit on one update (see parts.py)."""
    folder = tmp_path_factory.mktemp(f"submissions-{request.param}")
    with backend(request.param, folder / "engine") as env:
        server = SubmissionServer(folder, {
            "ILOKG_SUBMISSION_RATE": "1000/minute", "ILOKG_VALIDATION_RATE": "1000/minute",
            "ILOKG_MAX_SUBMISSION_TRIPLES": "10000", **env,
        }).start()
        server.backend = request.param
        yield server
        server.stop()


@pytest.fixture
def clean(submission_server: SubmissionServer) -> SubmissionServer:
    """The submission server with no submissions: the stored graph is the context of every validation."""
    withdraw_all(submission_server)
    return submission_server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).is_file(), f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def guarded(browser: Browser) -> Iterator[GuardedPage]:
    page = GuardedPage(browser)
    yield page
    page.close()
    assert page.csp_violations == []
