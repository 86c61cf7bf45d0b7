"""A long query gives way to short ones: past a moment its thread runs at the lowest CPU priority.

Measured in the benchmark (bench/LOAD.md), not here: these tests check the mechanism itself,
by reading the threads' nice values from /proc (Linux, where the server runs) while real
queries run on a real store in a real worker process.
"""

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import pytest

from server import containment, query_worker
from server.query_worker import QueryJob, QuerySyntaxError
from server.settings import Settings
from server.store import project_sources, sync_files
from tests.conftest import RunningServer

# About 0.4 s over the bundled files (3.7 million pairs); long enough to be seen demoted.
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d a ?f }"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _nice_by_thread(pid: int) -> dict[int, int]:
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
    """Samples the nice values of a process's threads every few milliseconds, in order."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, list[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for tid, nice in _nice_by_thread(self.pid).items():
                values = self.seen.setdefault(tid, [])
                if not values or values[-1] != nice:
                    values.append(nice)
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


@pytest.fixture
def worker() -> Iterator[tuple[ProcessPoolExecutor, int]]:
    """A query worker process, started as the server starts its own; and its process id."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=query_worker.initialise,
                             initargs=(containment.Policy(),)) as pool:
        yield pool, pool.submit(os.getpid).result()


def _job(store_dir: Path, query: str, demote_after: float) -> QueryJob:
    return QueryJob(query, "json", store_dir=str(store_dir), generation=1, demote_after=demote_after)


def test_a_long_query_is_demoted_and_the_next_one_starts_at_normal_priority(
    store_dir: Path, worker: tuple[ProcessPoolExecutor, int]
) -> None:
    pool, pid = worker
    with _Watch(pid) as first:
        assert b'"value":"3761579"' in pool.submit(query_worker.run, _job(store_dir, LONG, 0.05)).result().body
    # The first job runs in the worker's main thread (no hand-over), which is then demoted.
    assert first.seen[pid] == [0, 19]
    with _Watch(pid) as second:
        assert b'"value":"3761579"' in pool.submit(query_worker.run, _job(store_dir, LONG, 0.05)).result().body
    # The next job ran in a fresh thread at normal priority, demoted in its turn, then gone.
    fresh = [tid for tid, values in second.seen.items() if values == [0, 19] and tid != pid]
    assert len(fresh) == 1, second.seen
    assert fresh[0] not in _nice_by_thread(pid)
    # Nothing else in the worker was demoted.
    assert all(values == [0] for tid, values in second.seen.items() if tid not in (pid, fresh[0])), second.seen


def test_a_short_query_is_never_demoted(store_dir: Path, worker: tuple[ProcessPoolExecutor, int]) -> None:
    pool, pid = worker
    with _Watch(pid) as watch:
        for _ in range(20):
            assert b'"value":"1"' in pool.submit(query_worker.run, _job(store_dir, "SELECT (1 AS ?one) {}", 0.05)).result().body
    assert all(values == [0] for values in watch.seen.values()), watch.seen


def test_errors_reach_the_caller_before_and_after_a_demotion(store_dir: Path, worker: tuple[ProcessPoolExecutor, int]) -> None:
    pool, _ = worker
    bad = _job(store_dir, "SELECT ?x WHERE { ?x", 0.05)
    with pytest.raises(QuerySyntaxError) as in_main_thread:
        pool.submit(query_worker.run, bad).result()
    pool.submit(query_worker.run, _job(store_dir, LONG, 0.05)).result()
    with pytest.raises(QuerySyntaxError) as in_fresh_thread:
        pool.submit(query_worker.run, bad).result()
    assert (in_main_thread.value.line, in_fresh_thread.value.line) == (1, 1)


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
    # One thread of one worker: the query's.
    assert len(demoted) == 1, demoted
    # Past its deadline the worker was replaced, and a short query is answered at once.
    quick = httpx.get(server.url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"})
    assert quick.status_code == 200
    assert quick.json() == {"head": {}, "boolean": True}
