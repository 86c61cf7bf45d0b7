"""Shared fixtures: the project's settings, graphs and a validator, each built once."""

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from server.rdf.project_graphs import load_folder, turtle_files
from server.settings import Settings, get_settings
from server.submissions.plan import DataValidator
from tests.support.servers import RunningServer, SubmissionServer


def pytest_configure(config: pytest.Config) -> None:
    """Keep the suite off the developer's own store (var/store, with whatever they submitted): every
    setting, CLI and server of the run reads a store folder of its own, empty until a test fills it."""
    os.environ["ILOKG_STORE_DIR"] = str(Path(tempfile.mkdtemp(prefix="ilokg-tests-")) / "store")


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


@pytest.fixture(scope="session")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the endpoint tests; answers over 3 MB are refused (to test the limit)."""
    server = RunningServer(tmp_path_factory.mktemp("store") / "store", {"ILOKG_MAX_RESULT_BYTES": "3000000"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def submission_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubmissionServer]:
    """One server for the submission tests; generous rates, and a small triple limit to test it cheaply."""
    server = SubmissionServer(
        tmp_path_factory.mktemp("submissions"),
        {"ILOKG_SUBMISSION_RATE": "1000/minute", "ILOKG_VALIDATION_RATE": "1000/minute", "ILOKG_MAX_SUBMISSION_TRIPLES": "5000"},
    ).start()
    yield server
    server.stop()
