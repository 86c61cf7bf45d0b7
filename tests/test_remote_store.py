"""The external store's bookkeeping, in process, on a real `oxigraph serve`: what follows other replicas' writes never
takes this process's own writes for theirs, so never puts an older data version back (a server's records query
would then leave out the graph just written: a submission answered 201 and then 404)."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from server.store.embedded import GraphChange, GraphInfo
from server.store.opening import open_store
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
    settings = Settings(
        store_url=oxigraph.env["ILOKG_STORE_URL"], store_update_url=oxigraph.env["ILOKG_STORE_UPDATE_URL"],
        store_graph_store_url=oxigraph.env["ILOKG_STORE_GRAPH_STORE_URL"], store_dir=tmp_path / "store",
        store_poll_seconds=0.0001,
    )
    heard, written, last = asyncio.run(_write_while_polled(settings))
    assert len(set(written)) == WRITES
    assert last == written[-1]
    # Nobody else wrote: the poller has nothing to report, and above all no version older than this process's own.
    assert heard == []
