"""Shared fixtures: the project's settings, graphs and a validator, each built once."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph

from server.project_graphs import load_folder, turtle_files
from server.settings import Settings, get_settings
from server.tokens import Role, TokenRegistry
from server.validation_context import DataValidator

FIXTURES = Path(__file__).parent / "fixtures"
# Example files for users (the README's walkthrough), which the tests use as they are.
EXAMPLES = Path(__file__).parent.parent / "examples"


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


def run_cli(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ilo-kg command line in a fresh process, as a user would, with extra environment."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True, text=True, timeout=timeout, check=False, env={**os.environ, **(env or {})},
    )


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


class RunningServer:
    """A real `ilo-kg serve` process on 127.0.0.1, with its own store folder."""

    def __init__(self, store_dir: Path, env: dict[str, str] | None = None):
        self.store_dir = store_dir
        self.env = env or {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "RunningServer":
        environment = {**os.environ, "ILOKG_STORE_DIR": str(self.store_dir), **self.env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not become healthy within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the endpoint tests; answers over 3 MB are refused (to test the limit)."""
    server = RunningServer(tmp_path_factory.mktemp("store") / "store", {"ILOKG_MAX_RESULT_BYTES": "3000000"}).start()
    yield server
    server.stop()


class SubmissionServer(RunningServer):
    """A server that accepts submissions, with tokens issued to two submitters and an operator."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        registry = TokenRegistry(folder / "tokens.json")
        self.tokens = {
            "alice": registry.issue("alice", Role.SUBMITTER),
            "bob": registry.issue("bob", Role.SUBMITTER),
            "operator": registry.issue("operator", Role.OPERATOR),
        }
        super().__init__(folder / "store", {"ILOKG_TOKENS_FILE": str(folder / "tokens.json"), **(env or {})})

    def auth(self, who: str) -> dict[str, str]:
        """The Authorization header of one of the token holders."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="session")
def submission_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubmissionServer]:
    """One server for the submission tests; generous rates, and a small triple limit to test it cheaply."""
    server = SubmissionServer(
        tmp_path_factory.mktemp("submissions"),
        {"ILOKG_SUBMISSION_RATE": "1000/minute", "ILOKG_VALIDATION_RATE": "1000/minute", "ILOKG_MAX_SUBMISSION_TRIPLES": "5000"},
    ).start()
    yield server
    server.stop()
