"""Workers are contained by the kernel, independently of the query-text check.

Each layer alone keeps a process off the network; a worker that may federate reaches the relay's
port and nothing else; a SERVICE handed straight to the worker pool (no text check on the way)
reaches nobody and is answered with one refusal whether the port is open or closed; a query
past the memory cap is stopped with 422 and its worker replaced; workers end with the server.
"""

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.settings import Settings
from server.sparql.service import QueryRequest, SparqlError, SparqlService
from server.startup_checks import uncontained_workers
from server.store.embedded import EmbeddedStore
from server.store.query_worker import REFUSED_OUTSIDE, QueryEvaluationError, QueryJob
from server.workers import containment
from tests.support.processes import alive, children, cpu_ticks
from tests.support.servers import RunningServer
from tests.support.stores import run_with_store


@pytest.mark.parametrize("layer", containment.LAYERS)
def test_each_layer_alone_keeps_a_process_off_the_network(layer: str) -> None:
    probed = containment.probe(containment.Policy(layers=(layer,)))
    assert probed.layers == (layer,), probed.missing
    assert not probed.reached_network


def test_every_layer_is_in_force_on_this_machine() -> None:
    probed = containment.probe()
    assert probed.layers == containment.LAYERS, probed.missing
    assert probed.contained


def _reach(policy: containment.Policy, ports: dict[str, int], answer: Any) -> None:
    containment.apply(policy)
    reached = {}
    for name, port in ports.items():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                reached[name] = "connected"
        except OSError as error:
            reached[name] = type(error).__name__
    for name, family, kind in (("udp", socket.AF_INET, socket.SOCK_DGRAM), ("unix", socket.AF_UNIX, socket.SOCK_STREAM),
                               ("raw", socket.AF_PACKET, socket.SOCK_RAW)):
        try:
            socket.socket(family, kind).close()
            reached[name] = "created"
        except OSError as error:
            reached[name] = type(error).__name__
    answer.send(reached)


def _in_contained_child(target: Callable[..., None], *args: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(*args, sending))
    child.start()
    try:
        assert receiving.poll(60), "the child did not answer"
        return receiving.recv()
    finally:
        child.join(10)


def test_a_worker_that_may_federate_reaches_the_relay_port_and_nothing_else() -> None:
    with socket.create_server(("127.0.0.1", 0)) as relay, socket.create_server(("127.0.0.1", 0)) as other:
        ports = {"relay": relay.getsockname()[1], "other": other.getsockname()[1]}
        reached = _in_contained_child(_reach, containment.Policy(relay_port=ports["relay"]), ports)
    assert reached == {"relay": "connected", "other": "PermissionError", "udp": "PermissionError",
                       "unix": "PermissionError", "raw": "PermissionError"}


def test_a_worker_without_federation_reaches_nothing() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        reached = _in_contained_child(_reach, containment.Policy(), {"listener": listener.getsockname()[1]})
    assert set(reached.values()) == {"PermissionError"}, reached


def test_a_machine_that_cannot_contain_refuses_a_public_address_unless_told() -> None:
    uncontained = containment.ProbeResult((), {"seccomp": "libseccomp is not available"}, True)
    refusal = uncontained_workers(Settings(host="0.0.0.0"), uncontained)
    assert len(refusal) == 1 and "cannot keep its query workers off the network (seccomp: libseccomp" in refusal[0]
    assert "ILOKG_ALLOW_UNCONTAINED=true" in refusal[0]
    assert uncontained_workers(Settings(host="0.0.0.0", allow_uncontained=True), uncontained) == []
    assert uncontained_workers(Settings(host="127.0.0.1"), uncontained) == []
    assert uncontained_workers(Settings(host="0.0.0.0"), containment.probe()) == []


@pytest.fixture(scope="module")
def store_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # One worker with a 1.5 GiB cap; a deadline far beyond what the memory test needs.
    return Settings(store_dir=tmp_path_factory.mktemp("contained") / "store", query_workers=1,
                    worker_memory_bytes=1536 * 1024 * 1024, query_timeout_seconds=600)


def _with_store(settings: Settings, use: Callable[[EmbeddedStore], Coroutine[Any, Any, Any]]) -> Any:
    store = EmbeddedStore.open(settings)
    return run_with_store(store, lambda: use(store))


# Endpoints a query may try to reach, each written as an attacker would ({port} is a live listener's).
TARGETS = [
    "http://127.0.0.1:{port}/sparql", "http://localhost:{port}/", "http://[::1]:{port}/", "http://127.0.0.1:{closed}/",
    "https://127.0.0.1:{port}/", "http://127.1:{port}/", "http://0x7f000001:{port}/", "http://example.org/sparql",
]


def test_a_service_handed_straight_to_a_worker_reaches_nobody(
    store_settings: Settings, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    with socket.create_server(("127.0.0.1", 0)) as closed_socket:
        closed = closed_socket.getsockname()[1]
    jobs = [QueryJob(f"SELECT * WHERE {{ SERVICE <{t.format(port=port, closed=closed)}> {{ ?s ?p ?o }} }}", "json")
            for t in TARGETS]

    async def run_all(store: EmbeddedStore) -> list[str]:
        messages = []
        for job in jobs:
            with pytest.raises(QueryEvaluationError) as error:
                await store.execute(job, 30)
            messages.append(str(error.value))
        return messages

    messages = _with_store(store_settings, run_all)
    assert messages == [REFUSED_OUTSIDE] * len(TARGETS)
    assert received == []


def test_a_query_past_the_memory_cap_is_refused_and_its_worker_replaced(store_settings: Settings) -> None:
    async def run(store: EmbeddedStore) -> tuple[str, bytes]:
        service = SparqlService(store, store_settings, str(store.spool_dir))
        # Every pair of triples, sorted: the engine must hold them all (gigabytes) before the first row.
        heavy = service.plan(QueryRequest("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f ?c LIMIT 1", format="json"))
        with pytest.raises(SparqlError) as refused:
            await service.execute(heavy)
        assert refused.value.status == 422
        after = await service.execute(service.plan(QueryRequest("ASK { ?s ?p ?o }", format="json")))
        return refused.value.message, after.output.body or b""

    message, after = _with_store(store_settings, run)
    assert "more memory than one query may use (at most 1536 MiB)" in message
    assert b'"boolean":true' in after








@pytest.fixture
def killable_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = RunningServer(tmp_path / "store", {"ILOKG_QUERY_TIMEOUT_SECONDS": "3600"}).start()
    yield server
    server.stop()


def test_a_busy_worker_dies_with_the_server_even_when_it_is_killed(killable_server: RunningServer) -> None:
    assert killable_server.process is not None
    workers = children(killable_server.process.pid)
    assert len(workers) >= 5, workers  # four query workers and one validation worker, at least
    # Every triple with every pair of triples, counted: hours of CPU in little memory.
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

    def ask() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
            httpx.get(killable_server.url + "/sparql", params={"query": endless}, timeout=None)

    threading.Thread(target=ask, daemon=True).start()
    busy = None
    while busy is None:  # the event: a worker has spent a second of CPU on it
        busy = next((pid for pid in workers if cpu_ticks(pid) > os.sysconf("SC_CLK_TCK")), None)
        time.sleep(0.05)
    os.kill(killable_server.process.pid, signal.SIGKILL)
    killable_server.process.wait()
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)]
