"""Shared fixtures: the project's settings, graphs and a validator, each built once."""

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from server.project_graphs import load_folder, turtle_files
from server.settings import Settings, get_settings
from server.validation import Validator

FIXTURES = Path(__file__).parent / "fixtures"


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
def validator_with_data(settings: Settings) -> Validator:
    return Validator.from_settings(settings, with_data=True)


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
