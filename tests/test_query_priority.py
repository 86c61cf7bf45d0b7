"""A long query gives way to short ones: past a moment its thread runs at the lowest CPU priority.

Measured in the benchmark (bench/LOAD.md), not here: these tests check the mechanism itself,
by reading the threads' nice values from /proc (Linux, where the server runs) while a real
query runs on a real store.
"""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server import query_worker
from server.query_worker import QueryJob, QuerySyntaxError
from server.settings import Settings
from server.store import project_sources, sync_files

from tests.conftest import RunningServer

# About 0.4 s over the bundled files (3.7 million pairs); long enough to be seen demoted.
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d a ?f }"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _nice_by_thread(pid: int | str = "self") -> dict[int, int]:
    """The nice value of each thread of a process, read from /proc/<pid>/task/<tid>/stat."""
    values = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # the thread ended while we looked
        values[int(tid)] = int(fields[16])
    return values


class _Watch:
    """Samples the nice values of this process's threads every few milliseconds."""

    def __init__(self) -> None:
        self.seen: dict[int, set[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for tid, nice in _nice_by_thread().items():
                self.seen.setdefault(tid, set()).add(nice)
            time.sleep(0.005)

    def __enter__(self) -> "_Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    folder = tmp_path_factory.mktemp("priority") / "store"
    sync_files(folder, project_sources(settings))
    return folder


def _job(store_dir: Path, query: str, demote_after: float) -> QueryJob:
    return QueryJob(query, "json", store_dir=str(store_dir), generation=1, demote_after=demote_after)


def test_a_long_query_drops_to_the_lowest_priority_and_the_caller_keeps_its_own(store_dir: Path) -> None:
    with _Watch() as watch:
        answer = query_worker.run(_job(store_dir, LONG, demote_after=0.02))
    assert b'"value":"3761579"' in answer.body
    demoted = [tid for tid, values in watch.seen.items() if 19 in values]
    assert len(demoted) == 1, watch.seen
    assert demoted[0] != threading.get_native_id()
    # The thread that ran the query is gone, and the next job starts from the caller's priority.
    assert demoted[0] not in _nice_by_thread()
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0


def test_a_short_query_is_never_demoted(store_dir: Path) -> None:
    with _Watch() as watch:
        answer = query_worker.run(_job(store_dir, "SELECT (1 AS ?one) {}", demote_after=5))
    assert b'"value":"1"' in answer.body
    assert all(values == {0} for values in watch.seen.values()), watch.seen


def test_an_error_in_the_query_thread_reaches_the_caller(store_dir: Path) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        query_worker.run(_job(store_dir, "SELECT ?x WHERE { ?x", demote_after=0.02))
    assert caught.value.line == 1


def _descendants(pid: int) -> list[int]:
    """Processes whose parent is pid (the server's query and validation workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return children


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(
        tmp_path_factory.mktemp("priority-server") / "store", {"ILOKG_QUERY_DEMOTE_AFTER_SECONDS": "0.2"}
    ).start()
    yield running
    running.stop()


def test_the_server_demotes_a_long_query_in_its_worker(server: RunningServer) -> None:
    assert server.process is not None
    answers: list[httpx.Response] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            httpx.get(server.url + "/sparql", params={"query": ENDLESS, "timeout": "3"}, timeout=30)
        )
    )
    asking.start()
    demoted: set[tuple[int, int]] = set()
    while asking.is_alive():
        for worker in _descendants(server.process.pid):
            try:
                demoted |= {(worker, tid) for tid, nice in _nice_by_thread(worker).items() if nice == 19}
            except FileNotFoundError:
                continue  # a worker replaced while we looked
        time.sleep(0.05)
    asking.join()
    assert answers[0].status_code == 422
    assert "deadline" in answers[0].text
    # One thread of one worker: the query's, not the worker's own.
    assert len(demoted) == 1, demoted
    worker, tid = demoted.pop()
    assert tid != worker
    # Past its deadline the worker was replaced, and a short query is answered at once.
    quick = httpx.get(server.url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"})
    assert quick.status_code == 200
    assert quick.json() == {"head": {}, "boolean": True}
