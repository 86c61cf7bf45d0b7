"""The triple store behind the server, behind a small interface of its own.

`GraphStore` is what the rest of the server needs: facts about the loaded data (for the
service description, ETags and health), asynchronous query execution with a deadline, the
neighbourhood of some nodes (the context a submission is validated in), and atomic
replacement of one named graph. `EmbeddedStore` implements it with an on-disk pyoxigraph
store and worker processes; an external SPARQL 1.1 store (oxigraph serve, Fuseki, QLever)
can implement it later.

How reads and writes share the on-disk store. Only one process may open it for writing, and
a read-only handle must not be used while another process writes (RocksDB's read-only mode
does not follow a writer's compactions). So the server process opens the store for writing
only for the few milliseconds of a write, under the write side of a readers-writer lock whose
read side every query holds; each write bumps a generation number, and a worker whose handle
is older than the job's generation reopens it (about 10 ms at 1M triples) before reading.
A write is one SPARQL Update, which pyoxigraph applies in one transaction: a crash at any
point leaves the graph as it was before or as it is after, never in between.
"""

import asyncio
import concurrent.futures
import gc
import hashlib
import json
import multiprocessing
import os
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import aiorwlock
import pebble
import pyoxigraph as ox

from server import containment, fair_share, query_worker
from server.fair_share import FairShare
from server.files import write_atomic
from server.namespaces import GRAPH
from server.query_worker import DescribeJob, DumpJob, QueryJob, QueryOutput
from server.settings import Settings


class DeadlineExceededError(Exception):
    """A job ran past its deadline and was stopped; `ran` is how long it ran, after waiting for a worker."""

    def __init__(self, timeout: float, ran: float = 0.0):
        super().__init__(timeout, ran)
        self.timeout, self.ran = timeout, ran


class WorkerDiedError(Exception):
    """The worker running a job ended without an answer (killed by the kernel, or the engine aborted)."""

    def __init__(self, exitcode: int | None):
        super().__init__(exitcode)
        self.exitcode = exitcode


def worker_policy(settings: Settings) -> containment.Policy:
    """How this server's workers contain themselves (see containment)."""
    return containment.Policy(settings.worker_relay_port, settings.worker_memory_bytes, os.getpid())


class DataChangedError(Exception):
    """The data changed between asking for a job about one version of it and the job's start."""


@dataclass(frozen=True)
class GraphInfo:
    """One named graph: the file it was loaded from, its content hash and size."""

    iri: str
    source: str
    sha256: str
    triples: int
    loaded: str


@dataclass(frozen=True)
class StoreInfo:
    """What the store holds: its graphs, and a version that changes whenever they do."""

    graphs: tuple[GraphInfo, ...]
    version: str
    last_modified: datetime
    triples: int


class GraphStore(Protocol):
    """The store as the server sees it."""

    @property
    def info(self) -> StoreInfo: ...

    async def execute(self, job: QueryJob, timeout: float) -> QueryOutput: ...

    async def describe(self, job: DescribeJob, timeout: float) -> bytes: ...

    async def dump(self, job: DumpJob, timeout: float) -> None: ...

    async def write(self, change: "GraphChange") -> None: ...

    def adopt(self, graphs: list[GraphInfo]) -> None: ...

    @property
    def load(self) -> dict[str, int]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class GraphChange:
    """Put new content into one named graph, replacing what it held, or (content None) remove it."""

    graph: str
    ntriples: str | None
    info: GraphInfo | None


def _update_text(change: GraphChange) -> str:
    """One SPARQL Update that replaces the graph and keeps the default graph its union."""
    graph = f"<{change.graph}>"
    # A triple leaves the default graph only if no other named graph still asserts it.
    text = (
        f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER(?other != {graph}) }} }} ;\n"
        f"DROP SILENT GRAPH {graph}"
    )
    if change.ntriples:
        # One INSERT DATA for both copies, so a blank node label names the same node in each.
        text += f" ;\nINSERT DATA {{\nGRAPH {graph} {{\n{change.ntriples}\n}}\n{change.ntriples}\n}}"
    return text


def _unique_triples(store: ox.Store, graph: str) -> int:
    """Triples of a graph that no other named graph asserts (its share of the default graph)."""
    query = (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER(?other != <{graph}>) }} }}"
    )
    solution = next(iter(store.query(query)))  # type: ignore[arg-type]
    return int(solution["n"].value)


def apply_change(store_dir: Path, change: GraphChange) -> int:
    """Apply a change to the on-disk store (opened for writing just for it); return the default graph's growth."""
    store = ox.Store(str(store_dir))
    try:
        before = _unique_triples(store, change.graph)
        store.update(_update_text(change))
        after = _unique_triples(store, change.graph) if change.ntriples else 0
        store.flush()
    finally:
        # Dropping the last reference closes RocksDB, which waits for its background work.
        del store
        gc.collect()
    return after - before


def graph_iri(folder: Path, path: Path) -> str:
    """The named graph of a source file: graph/{folder}/{file name without extension}."""
    return str(GRAPH[f"{folder.name}/{path.stem}"])


def _manifest_path(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + "-manifest.json")


def sync_files(store_dir: Path, sources: dict[str, Path]) -> StoreInfo:
    """Bring the on-disk store in line with the source files: each file in its own named graph.

    A file whose content hash is unchanged since the last sync is not reloaded; graphs of
    files that are gone are removed. The default graph is kept as the union of the named
    graphs, materialised: pyoxigraph answers aggregates several times faster over a real
    default graph than with its union-default-graph option (0.44 s against 2.8 s at 1M
    triples), at the price of storing each triple twice and rebuilding the union when a
    file changes. The manifest of hashes is written last, so a crash at any point only
    causes a reload (and a rebuild) next time.
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = _manifest_path(store_dir)
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"graphs": []}
    previous = {g["iri"]: g for g in manifest["graphs"]}
    store = ox.Store(str(store_dir))
    graphs = []
    changed = False
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for iri, path in sorted(sources.items()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        known = previous.get(iri)
        if known is not None and known["sha256"] == digest and store.contains_named_graph(ox.NamedNode(iri)):
            graphs.append(GraphInfo(**known))
            continue
        name = ox.NamedNode(iri)
        if store.contains_named_graph(name):
            store.remove_graph(name)
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=name)
        triples = sum(1 for _ in store.quads_for_pattern(None, None, None, name))
        graphs.append(GraphInfo(iri, str(path), digest, triples, now))
        changed = True
    for gone in set(previous) - set(sources):
        store.remove_graph(ox.NamedNode(gone))
        changed = True
    default = ox.DefaultGraph()
    if changed or next(iter(store.quads_for_pattern(None, None, None, default)), None) is None:
        store.update("DROP SILENT DEFAULT ; INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    # Counted afresh each time (0.3 s at 1M triples): submissions change the default graph too.
    count = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))  # type: ignore[arg-type]
    default_triples = int(count["n"].value)
    store.flush()
    # Close the read-write handle before workers open the store read-only.
    del store
    gc.collect()
    info = _info_for(graphs, default_triples)
    write_atomic(manifest_path, json.dumps({"version": info.version, "graphs": [asdict(g) for g in graphs]}, indent=2).encode())
    return info


def _info_for(graphs: list[GraphInfo], triples: int) -> StoreInfo:
    """The description of a store holding these graphs: the version is a hash of their contents."""
    graphs = sorted(graphs, key=lambda g: g.iri)
    version = hashlib.sha256("".join(f"{g.iri} {g.sha256}\n" for g in graphs).encode()).hexdigest()[:20]
    last_modified = max((datetime.fromisoformat(g.loaded) for g in graphs), default=datetime.now(UTC))
    return StoreInfo(tuple(graphs), version, last_modified, triples)


def project_sources(settings: Settings) -> dict[str, Path]:
    """The project's own files to serve: ontology/, shapes/ and data/, by named graph."""
    sources = {}
    for folder in (settings.ontology_dir, settings.shapes_dir, settings.data_dir):
        for path in sorted(folder.glob("*.ttl")):
            sources[graph_iri(folder, path)] = path
    return sources


class EmbeddedStore:
    """The embedded on-disk pyoxigraph store, queried by worker processes with hard deadlines."""

    def __init__(self, settings: Settings, info: StoreInfo):
        self._settings = settings
        self._info = info
        self._spool_dir = settings.store_dir.with_name(settings.store_dir.name + "-spool")
        shutil.rmtree(self._spool_dir, ignore_errors=True)
        self._spool_dir.mkdir(parents=True)
        # Spawned (not forked) workers: the server process runs threads, which fork does not copy safely.
        self._pool = pebble.ProcessPool(
            max_workers=settings.query_workers,
            initializer=query_worker.initialise,
            initargs=(worker_policy(settings),),
            context=multiprocessing.get_context("spawn"),
        )
        self._share = FairShare(
            settings.query_workers, settings.workers_reserved_for_tokens, settings.queries_per_client, settings.queries_per_token
        )
        # fast=True: no extra event-loop turn per acquisition; writers go before waiting readers.
        self._lock = aiorwlock.RWLock(fast=True)
        self._generation = 0

    @classmethod
    def open(cls, settings: Settings) -> "EmbeddedStore":
        """Sync the project's files into the store, then start the query workers."""
        return cls(settings, sync_files(settings.store_dir, project_sources(settings)))

    @property
    def info(self) -> StoreInfo:
        return self._info

    @property
    def load(self) -> dict[str, int]:
        """Jobs running in the query workers, and jobs waiting for one."""
        return {"running": self._share.running, "waiting": self._share.waiting}

    @property
    def spool_dir(self) -> Path:
        """Where workers write large answers."""
        return self._spool_dir

    async def execute(self, job: QueryJob, timeout: float) -> QueryOutput:
        """Run a query in a worker; past the deadline the worker is killed and replaced."""
        return await self._in_worker(query_worker.run, job, timeout)

    async def describe(self, job: DescribeJob, timeout: float) -> bytes:
        """The neighbourhood of some nodes as N-Triples (see context_walk), computed in a worker."""
        return await self._in_worker(query_worker.describe, job, timeout)

    async def dump(self, job: DumpJob, timeout: float) -> None:
        """Write the dump files of the store (see dumps), in a worker, while no write changes it.

        Raises DataChangedError if the store no longer holds job.version when the worker starts.
        """
        await self._in_worker(query_worker.dump, job, timeout, job.version)

    async def _in_worker(self, function, job, timeout: float, version: str | None = None):  # type: ignore[no-untyped-def]
        # The deadline counts from arrival, not from when a worker takes the job: under load a
        # query waits for a worker, and its client is owed an answer by the deadline all the same.
        loop = asyncio.get_running_loop()
        arrived, started = loop.time(), None
        try:
            async with asyncio.timeout(timeout), self._lock.reader_lock:
                if version is not None and version != self._info.version:
                    raise DataChangedError(version)
                job = replace(
                    job,
                    store_dir=str(self._settings.store_dir),
                    generation=self._generation,
                    demote_after=self._settings.query_demote_after_seconds,
                )
                async with self._share.slot(fair_share.current.get()):
                    started = loop.time()
                    # The share admits no more jobs than there are workers: this one starts now.
                    future = self._pool.schedule(function, args=(job,), timeout=max(0.001, timeout - (started - arrived)))
                    try:
                        return await asyncio.wrap_future(future)
                    except asyncio.CancelledError:
                        # The deadline, or the client went away: stop the job (its worker is killed if it runs).
                        future.cancel()
                        raise
        except (concurrent.futures.TimeoutError, TimeoutError):
            raise DeadlineExceededError(timeout, 0.0 if started is None else loop.time() - started) from None
        except pebble.ProcessExpired as error:
            # pebble starts a new worker in its place.
            raise WorkerDiedError(error.exitcode) from None

    async def write(self, change: GraphChange) -> None:
        """Replace or remove one named graph atomically, while no query reads the store."""
        async with self._lock.writer_lock:
            # Shielded: once begun, a write finishes even if its client goes away.
            growth = await asyncio.shield(asyncio.to_thread(apply_change, self._settings.store_dir, change))
            self._generation += 1
            graphs = [g for g in self._info.graphs if g.iri != change.graph]
            if change.info is not None:
                graphs.append(change.info)
            self._info = _info_for(graphs, self._info.triples + growth)

    def adopt(self, graphs: list[GraphInfo]) -> None:
        """Count graphs written earlier (submissions found at start-up) in the store's description."""
        known = {g.iri for g in graphs}
        self._info = _info_for([g for g in self._info.graphs if g.iri not in known] + graphs, self._info.triples)

    def close(self) -> None:
        """Stop the workers and remove spooled answers."""
        self._pool.stop()
        self._pool.join()
        shutil.rmtree(self._spool_dir, ignore_errors=True)
