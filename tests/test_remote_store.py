"""The external store's bookkeeping, in process, on a real `oxigraph serve`: what follows other replicas' writes never
takes this process's own writes for theirs, so never puts an older data version back (a server's records query
would then leave out the graph just written: a submission answered 201 and then 404); a write cut short leaves
nothing that outlives the next write."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from server.store.embedded import GraphChange, GraphInfo
from server.store.opening import open_store
from server.store.remote import STAGING, UNION, RemoteStore, StoreUnavailableError
from tests.support.engines import Engine, start_oxigraph

GRAPH = "https://w3id.org/ilo-partnerships/id/graph/probe"
WRITES = 40


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = start_oxigraph(tmp_path_factory.mktemp("remote-store"))
    yield engine
    engine.stop()


async def _write_while_polled(settings: Settings) -> tuple[list[str], list[str], str]:
    store = await open_store(settings)
    heard: list[str] = []
    written: list[str] = []

    async def listener() -> None:
        heard.append(store.info.version)

    store.watch(listener)
    try:
        for n in range(WRITES):
            async with store.exclusive():
                info = GraphInfo(GRAPH, "probe", f"{n:064x}", 1, "2026-12-03T00:00:00Z")
                await store.write(GraphChange(GRAPH, f'<urn:probe> <urn:n> "{n}" .\n', info))
            written.append(store.info.version)
            # A poll that began before the write may end only now: let the poller run its rounds between writes.
            await asyncio.sleep(0)
        async with store.exclusive():  # after the poller's rounds in flight: the lock orders them before this
            last = store.info.version
    finally:
        await store.close()
    return heard, written, last


def test_a_replicas_own_writes_are_never_taken_for_another_replicas(oxigraph: Engine, tmp_path: Path) -> None:
    settings = _settings(oxigraph, tmp_path, store_poll_seconds=0.0001)
    heard, written, last = asyncio.run(_write_while_polled(settings))
    assert len(set(written)) == WRITES
    assert last == written[-1]
    # Nobody else wrote: the poller has nothing to report, and above all no version older than this process's own.
    assert heard == []


def _settings(engine: Engine, folder: Path, **more: object) -> Settings:
    return Settings(store_url=engine.env["ILOKG_STORE_URL"], store_update_url=engine.env["ILOKG_STORE_UPDATE_URL"],
                    store_graph_store_url=engine.env["ILOKG_STORE_GRAPH_STORE_URL"], store_dir=folder / "store", **more)


async def _after_a_crash_then_a_withdrawal(settings: Settings) -> tuple[list[str], list[str]]:
    store = await open_store(settings)
    assert isinstance(store, RemoteStore)
    try:
        async with store.exclusive():
            info = GraphInfo(GRAPH, "probe", "0" * 64, 1, "2026-12-04T00:00:00Z")
            await store.write(GraphChange(GRAPH, '<urn:a> <urn:b> "old" .\n', info))
        # What a replica killed while staging a write leaves: its staging graph, listed, holding that triple too.
        left = f"{STAGING}/killed"
        await store.update(f'INSERT DATA {{ GRAPH <{STAGING}> {{ <{left}> <http://purl.org/dc/terms/created> '
                           f'"2026-12-04T00:00:00Z" }} GRAPH <{left}> {{ <urn:a> <urn:b> "old" . <urn:c> <urn:d> "e" }} }}')
        async with store.exclusive():
            await store.write(GraphChange(GRAPH, None, None))
        in_union = await store.select(f"SELECT ?o WHERE {{ GRAPH <{UNION}> {{ <urn:a> <urn:b> ?o }} }}", dataset=False)
        staged = await store.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                                    f"FILTER(STRSTARTS(STR(?g), '{STAGING}')) }}", dataset=False)
    finally:
        await store.close()
    return [row["o"]["value"] for row in in_union], [row["g"]["value"] for row in staged]


def test_a_staging_graph_left_by_a_crash_is_dropped_before_the_next_write(oxigraph: Engine, tmp_path: Path) -> None:
    # Left there, it would keep the withdrawn triple in the union (a triple stays while another graph asserts it).
    in_union, staged = asyncio.run(_after_a_crash_then_a_withdrawal(_settings(oxigraph, tmp_path)))
    assert (in_union, staged) == ([], [])


TAKEN_OVER = GRAPH + "/taken-over"


async def _staged_then_taken_over(settings: Settings) -> tuple[str, list[str], list[str]]:
    first, second = await open_store(settings), await open_store(settings)
    assert isinstance(first, RemoteStore) and isinstance(second, RemoteStore)
    try:
        # The first replica stages a write, then loses the lease (its renewals failed for a whole lease): the
        # second takes it, and drops the staging graphs listed, as a crash's.
        change = GraphChange(TAKEN_OVER, '<urn:a> <urn:b> "staged" .\n', GraphInfo(TAKEN_OVER, "probe", "1" * 64, 1,
                                                                              "2026-12-04T00:00:00Z"))
        staged = await first._staged(change.ntriples or "")
        async with second.exclusive():
            pass
        try:
            await first._moved(change, staged)
            outcome = "written"
        except StoreUnavailableError as error:
            outcome = error.reason
        graph = await first.select(f"SELECT ?o WHERE {{ GRAPH <{TAKEN_OVER}> {{ ?s ?p ?o }} }}", dataset=False)
        union = await first.select(f"SELECT ?o WHERE {{ GRAPH <{UNION}> {{ <urn:a> ?p ?o }} }}", dataset=False)
    finally:
        await first.close()
        await second.close()
    return outcome, [row["o"]["value"] for row in graph], [row["o"]["value"] for row in union]


def test_a_write_whose_staging_graph_another_replica_dropped_fails_and_stores_nothing(oxigraph: Engine,
                                                                                       tmp_path: Path) -> None:
    outcome, graph, union = asyncio.run(_staged_then_taken_over(_settings(oxigraph, tmp_path)))
    assert outcome.endswith("was dropped before the write ended: another replica took the write lease meanwhile")
    assert (graph, union) == ([], [])
