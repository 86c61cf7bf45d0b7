"""Anonymous clients cannot hold every worker, a token holder is answered while they try, and a
request whose client hangs up stops its job.

The server here has two query workers, one of them kept for token holders, and a deadline of an
hour, so a query held in a worker ends only when the server stops it. Every wait is for an event
the server reports (/health says how many jobs run and wait), never for a length of time.
"""

import contextlib
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from bench.write_stall import submission
from server.submissions.tokens import Role, TokenRegistry
from tests.support.problems import problem
from tests.support.processes import alive, children, cpu_ticks
from tests.support.servers import RunningServer

# Every triple with every pair of triples, counted: hours of CPU in little memory.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    folder = tmp_path_factory.mktemp("shares")
    token = TokenRegistry(folder / "tokens.json").issue("partner", Role.SUBMITTER)
    running = RunningServer(folder / "store", {
        "ILOKG_QUERY_WORKERS": "2", "ILOKG_WORKERS_RESERVED_FOR_TOKENS": "1", "ILOKG_QUERIES_PER_CLIENT": "2",
        "ILOKG_QUERY_TIMEOUT_SECONDS": "3600", "ILOKG_TOKENS_FILE": str(folder / "tokens.json"),
        "ILOKG_PARSE_TIMEOUT_SECONDS": "600", "ILOKG_VALIDATION_TIMEOUT_SECONDS": "600",
        "ILOKG_MAX_SUBMISSION_BYTES": "20000000", "ILOKG_MAX_SUBMISSION_TRIPLES": "200000",
    }).start()
    yield running, token
    running.stop()


def _hold(server: RunningServer, query: str) -> socket.socket:
    """Send a query over a connection left open (its answer never read); closing it hangs up."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    connection.sendall(f"GET /sparql?query={urllib.parse.quote(query)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return connection


def _wait_for_load(server: RunningServer, running: int, waiting: int) -> None:
    # Never more running, nor more in all, than expected on the way; a job may wait a moment for a worker
    # that is being replaced (one an earlier test stopped) before it runs.
    while (load := httpx.get(server.url + "/health", timeout=30).json()["workers"]) != {"running": running, "waiting": waiting}:
        assert load["running"] <= running and load["running"] + load["waiting"] <= running + waiting, load
        time.sleep(0.02)


def test_a_token_holder_is_answered_while_anonymous_clients_saturate_the_workers(server: tuple[RunningServer, str]) -> None:
    running, token = server
    first = _hold(running, ENDLESS)
    _wait_for_load(running, 1, 0)
    second = _hold(running, ENDLESS + " # another")
    _wait_for_load(running, 1, 1)  # the anonymous share is one worker: the second waits
    try:
        third = httpx.get(running.url + "/sparql", params={"query": "ASK {}"}, timeout=30)
        assert third.status_code == 429
        assert problem(third)[1].startswith("One client address may have at most 2 of these requests running or waiting")
        answered = httpx.get(running.url + "/sparql", params={"query": "ASK { ?s ?p ?o }", "format": "json"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert (answered.status_code, answered.json()["boolean"]) == (200, True)
    finally:
        first.close()
        second.close()
    # Both hung up: the running query's worker is stopped, the waiting one leaves the queue.
    _wait_for_load(running, 0, 0)
    after = httpx.get(running.url + "/sparql", params={"query": "ASK { ?s ?p ?o }", "format": "json"}, timeout=30)
    assert (after.status_code, after.json()["boolean"]) == (200, True)


def test_a_query_whose_client_hangs_up_frees_its_worker(server: tuple[RunningServer, str]) -> None:
    running, _ = server
    for round_ in range(3):  # each time the same single anonymous worker: it must be freed every time
        held = _hold(running, ENDLESS + f" # {round_}")
        _wait_for_load(running, 1, 0)
        held.close()
        _wait_for_load(running, 0, 0)
    answered = httpx.get(running.url + "/sparql", params={"query": "ASK {}", "format": "json"}, timeout=30)
    assert answered.status_code == 200







def test_a_client_that_hangs_up_stops_only_its_own_request(server: tuple[RunningServer, str]) -> None:
    # uvicorn keeps the running requests of all connections in one set: a hang-up once stopped them all,
    # so another client's request in flight was never answered.
    running, _ = server
    held = _hold(running, ENDLESS + " # held")
    _wait_for_load(running, 1, 0)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(httpx.get(
        running.url + "/sparql", params={"query": "ASK { ?s ?p ?o } # waits its turn", "format": "json"}, timeout=120)))
    waiting.start()
    _wait_for_load(running, 1, 1)  # the other client's request is in flight, waiting for the worker
    held.close()
    waiting.join()
    assert (answers[0].status_code, answers[0].json()["boolean"]) == (200, True)


def test_a_validation_whose_client_hangs_up_is_stopped(server: tuple[RunningServer, str]) -> None:
    running, _ = server
    assert running.process is not None
    warm = httpx.post(running.url + "/validate", content=submission(1), headers={"Content-Type": "text/turtle"}, timeout=60)
    assert warm.status_code == 200  # the validation worker is up
    # and the query workers too: one an earlier test stopped has been replaced, and its start is over.
    _wait_for_load(running, 0, 0)
    assert httpx.get(running.url + "/sparql", params={"query": "ASK {}"}, timeout=60).status_code == 200
    workers = children(running.process.pid)
    before = {pid: cpu_ticks(pid) for pid in workers}
    data = submission(2000)  # 96,000 triples: tens of seconds of parsing and validating
    connection = socket.create_connection(("127.0.0.1", running.port), timeout=30)
    connection.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(data) + data)
    # The event: a worker has spent three seconds of CPU on it. (Less would not tell it from a worker
    # that was starting, in place of one a previous test stopped: a start costs about a second.)
    busy, deadline = None, time.monotonic() + 300
    while busy is None and time.monotonic() < deadline:
        busy = next((pid for pid in workers if cpu_ticks(pid) - before[pid] > 3 * os.sysconf("SC_CLK_TCK")), None)
        time.sleep(0.05)
    connection.settimeout(0)
    early = b""
    with contextlib.suppress(BlockingIOError):
        early = connection.recv(65536)
    assert busy is not None, f"no worker took it up; the server said {early[-300:]!r}"
    connection.close()
    # Its deadlines are 600 s: only the hang-up can end it sooner. The worker is killed if the hang-up
    # finds it working; if it finds the request between two steps (collecting the context, in a query
    # worker), the next step never starts and the worker stays, idle. Either way it stops spending CPU:
    # a worker still at it gets some of a core within a second even on a busy machine.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        spent = cpu_ticks(busy)
        time.sleep(1)
        if not alive(busy) or cpu_ticks(busy) == spent:
            break
    assert not alive(busy) or cpu_ticks(busy) == spent, "the validation ran on for nobody"
    assert httpx.get(running.url + "/health", timeout=30).json()["status"] == "ok"


@pytest.fixture(scope="module")
def short_deadline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("memory") / "store", {
        "ILOKG_QUERY_WORKERS": "2", "ILOKG_WORKERS_RESERVED_FOR_TOKENS": "1", "ILOKG_QUERIES_PER_CLIENT": "4",
        "ILOKG_QUERY_TIMEOUT_SECONDS": "4",
    }).start()
    yield running
    running.stop()


EARLIER = "on an earlier request for the same query and data; it was not run again"


def test_time_spent_waiting_for_a_worker_does_not_mark_a_query_as_too_expensive(short_deadline: RunningServer) -> None:
    holder = _hold(short_deadline, ENDLESS)  # takes the only anonymous worker until its deadline
    _wait_for_load(short_deadline, 1, 0)
    waited = httpx.get(short_deadline.url + "/sparql", params={"query": ENDLESS + " # waits"}, timeout=60)
    holder.close()
    # Its deadline passed while it waited (or just after it began): not remembered as too expensive.
    assert waited.status_code == 422 and EARLIER not in problem(waited)[1]
    # The events that make the next run a whole one: the held query is gone, and a worker is up
    # (a hang-up replaces a busy worker) and has answered.
    _wait_for_load(short_deadline, 0, 0)
    assert httpx.get(short_deadline.url + "/sparql", params={"query": "ASK {}"}, timeout=60).status_code == 200
    ran = httpx.get(short_deadline.url + "/sparql", params={"query": ENDLESS + " # waits"}, timeout=60)
    assert ran.status_code == 422 and EARLIER not in problem(ran)[1], "it was refused without being run"
    # Having run for its whole deadline, it is remembered now.
    again = httpx.get(short_deadline.url + "/sparql", params={"query": ENDLESS + " # waits"}, timeout=60)
    assert again.status_code == 422 and EARLIER in problem(again)[1]
