"""A long query gives way to short ones: past a moment its thread runs at the lowest CPU priority.

Measured in the benchmark (bench/LOAD.md), not here: these tests check the mechanism itself,
by reading the threads' nice values from /proc (Linux, where the server runs) while real
queries run on a real store in a real worker process. Each test waits for an event (a thread
seen demoted, a worker freed), never for a span of time, so a busy machine only makes it slower.
"""

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from server.settings import Settings
from server.store import query_worker
from server.store.embedded import project_sources, sync_files
from server.store.query_worker import QueryJob, QueryOutput, QuerySyntaxError
from server.workers import containment
from server.workers.pool import WorkerPool
from tests.support.processes import children, nice_by_thread
from tests.support.servers import RunningServer

# About 0.4 s over the bundled files (some 3.9 million pairs): long enough to be demoted.
LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d a ?f }"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _count(body: bytes | None) -> int:
    """The ?n of a one-row SPARQL JSON answer."""
    return int(json.loads(body or b"{}")["results"]["bindings"][0]["n"]["value"])


def _wait_for(condition: Callable[[], object], what: str) -> object:
    """Poll until the condition holds (an event), and return what it returned. The bound is only a
    safety net for a broken build (a minute), never the point of the test."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    folder = tmp_path_factory.mktemp("priority") / "store"
    sync_files(folder, project_sources(settings))
    return folder


async def _poll(condition: Callable[[], object], what: str) -> object:
    """_wait_for, inside the event loop the pool runs in."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def _with_worker(demote_after: float, scenario: Callable[[WorkerPool, int], Awaitable[None]]) -> None:
    """Run the scenario with one query worker, started as the server starts its own, and its process id."""

    async def main() -> None:
        pool = WorkerPool(1, policy=containment.Policy(), demote_after=demote_after)
        await pool.start()
        try:
            (pid,) = pool.pids()
            await scenario(pool, pid)
        finally:
            await pool.close()

    asyncio.run(main())


def _query(pool: WorkerPool, store_dir: Path, query: str) -> Awaitable[QueryOutput]:
    return pool.run(query_worker.run, QueryJob(query, "json"), str(store_dir.resolve()))


def test_a_long_query_is_demoted_and_the_next_one_starts_at_normal_priority(store_dir: Path) -> None:
    async def scenario(pool: WorkerPool, pid: int) -> None:
        assert set(nice_by_thread(pid).values()) == {0}
        assert _count((await _query(pool, store_dir, LONG)).body) > 1_000_000
        # The first job ran in the worker's main thread (no hand-over), which stays demoted; its
        # successor was started when it was demoted, and took over the loop at normal priority.
        waiting = nice_by_thread(pid)
        assert waiting[pid] == 19
        # The next job runs in that successor: the one thread demoted while it runs (an event, waited
        # for) is one that was at normal priority; nothing else is demoted.
        endless = asyncio.ensure_future(_query(pool, store_dir, ENDLESS))
        demoted = await _poll(lambda: {t for t, n in nice_by_thread(pid).items() if n == 19 and t != pid},
                              "the next job's thread is demoted")
        assert len(demoted) == 1, demoted
        (runner,) = demoted
        assert waiting.get(runner) == 0, waiting
        others = {t: n for t, n in nice_by_thread(pid).items() if t not in (pid, runner)}
        assert set(others.values()) == {0}, others
        endless.cancel()  # the pool kills the worker running it
        with pytest.raises(asyncio.CancelledError):
            await endless

    _with_worker(0.05, scenario)


def test_a_short_query_is_never_demoted(store_dir: Path) -> None:
    async def scenario(pool: WorkerPool, pid: int) -> None:
        for _ in range(20):
            assert b'"value":"1"' in (await _query(pool, store_dir, "SELECT (1 AS ?one) {}")).body  # type: ignore[operator]
        # A demoted thread stays so (the main thread) or is replaced: none is at 19 now.
        assert set(nice_by_thread(pid).values()) == {0}

    # Demoted past 5 s: a query of a millisecond stays clear of it even on a machine busy enough to
    # pause the worker for a while.
    _with_worker(5, scenario)


def test_errors_reach_the_caller_before_and_after_a_demotion(store_dir: Path) -> None:
    async def scenario(pool: WorkerPool, pid: int) -> None:
        with pytest.raises(QuerySyntaxError) as in_main_thread:
            await _query(pool, store_dir, "SELECT ?x WHERE { ?x")
        assert _count((await _query(pool, store_dir, LONG)).body) > 1_000_000
        with pytest.raises(QuerySyntaxError) as in_fresh_thread:
            await _query(pool, store_dir, "SELECT ?x WHERE { ?x")
        assert (in_main_thread.value.line, in_fresh_thread.value.line) == (1, 1)
        assert nice_by_thread(pid)[pid] == 19  # the second error did come from the successor

    _with_worker(0.05, scenario)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(
        tmp_path_factory.mktemp("priority-server") / "store", {"ILOKG_QUERY_DEMOTE_AFTER_SECONDS": "0.2"}
    ).start()
    yield running
    running.stop()


def test_the_server_demotes_a_long_query_in_its_worker(server: RunningServer) -> None:
    assert server.process is not None
    # The query is sent on a socket of our own, so that we can hang up once the demotion is seen:
    # the server then stops it (the worker is freed) — no waiting for a deadline.
    host, port = server.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    path = "/sparql?" + urlencode({"query": ENDLESS})
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/sparql-results+json\r\n\r\n".encode())

    def demoted_threads() -> set[tuple[int, int]]:
        return {(w, t) for w in children(server.process.pid) for t, n in nice_by_thread(w).items() if n == 19}

    demoted = _wait_for(demoted_threads, "the query's thread is demoted")
    # One thread of one worker: the query's.
    assert len(demoted) == 1, demoted
    client.close()
    # Once the client has hung up, the query is stopped and a short one is answered.
    health = _wait_for(lambda: httpx.get(server.url + "/health").json()["workers"]["running"] == 0, "the worker is freed")
    assert health
    quick = httpx.get(server.url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"})
    assert quick.status_code == 200
    assert quick.json() == {"head": {}, "boolean": True}
