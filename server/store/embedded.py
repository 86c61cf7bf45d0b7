"""The triple store behind the server, behind a small interface of its own.

`GraphStore` is what the rest of the server needs: facts about the loaded data (for the
service description, ETags and health), asynchronous query execution with a deadline, the
neighbourhood of some nodes (the context a submission is validated in), and atomic
replacement of one named graph. `EmbeddedStore` implements it with an on-disk pyoxigraph
store and worker processes; an external SPARQL 1.1 store (oxigraph serve, Fuseki, QLever)
can implement it later.

How reads and writes share the on-disk store. A published store directory is never written
again: `store_dir` is a symbolic link to the current one, `<store>.generations/<n>`. A write
takes a checkpoint of the current generation (RocksDB hard-links its files: 2 ms at a million
triples), applies one SPARQL Update to the copy, which pyoxigraph runs in one transaction, and
publishes it by replacing the link atomically. Queries never wait for a write: each job reads the
generation that was current when it was scheduled, a consistent snapshot, through a read-only
handle on a directory nobody writes (RocksDB supports no other way of sharing a store between
processes); a generation is deleted once no job reads it. A crash before the link is replaced
leaves the previous generation published and a half-made one that the next start removes.
"""

import asyncio
import contextlib
import fcntl
import gc
import hashlib
import json
import logging
import os
import shutil
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from server.files import write_atomic
from server.namespaces import GRAPH
from server.settings import Settings
from server.store import query_worker
from server.store.context_walk import Context
from server.store.query_worker import DescribeJob, DumpJob, QueryJob, QueryOutput
from server.workers import containment, fair_share
from server.workers.fair_share import FairShare
from server.workers.pool import Progress, WorkerPool

log = logging.getLogger("ilokg.store")


class DeadlineExceededError(Exception):
    """A job ran past its deadline and was stopped; `ran` is how long it ran, after waiting for a worker."""

    def __init__(self, timeout: float, ran: float = 0.0):
        super().__init__(timeout, ran)
        self.timeout, self.ran = timeout, ran


def worker_policy(settings: Settings) -> containment.Policy:
    """How this server's workers contain themselves (see containment)."""
    return containment.Policy(settings.worker_relay_port, settings.worker_memory_bytes, os.getpid())


class ProjectFileError(Exception):
    """A file of the project (ontology/, shapes/, data/) that cannot be read as Turtle: its path, where and why."""


class StoreInUseError(Exception):
    """Another process holds the store: a running server, or a load."""

    def __init__(self, store_dir: Path):
        super().__init__(f"another process holds the store at {store_dir} (a running server, or `ilo-kg load`)")


class NotAStoreError(Exception):
    """ILOKG_STORE_DIR names something that is neither a store nor free: a file, or a folder of other files."""

    def __init__(self, store_dir: Path, what: str):
        super().__init__(
            f"{store_dir} is {what}, not a store; set ILOKG_STORE_DIR to a folder that does not exist yet (it is made) "
            "or to a store this server made. Nothing was changed there")


def hold(store_dir: Path) -> int:
    """Take the store for this process: an exclusive lock on `<store>.lock`, until `release` or the process ends.

    The server holds it while it runs; `ilo-kg load` and `export` take it to write the store in place, which is
    safe only while no worker reads it (see the module's notes). Raises StoreInUseError if another process holds it.
    """
    store_dir = store_dir.absolute()
    store_dir.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(store_dir.with_name(store_dir.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StoreInUseError(store_dir) from None
    return descriptor


def release(descriptor: int) -> None:
    """Give the store back (see hold)."""
    os.close(descriptor)


@contextlib.contextmanager
def held(store_dir: Path) -> Iterator[None]:
    """The store held by this process for the duration of the block (see hold)."""
    descriptor = hold(store_dir)
    try:
        yield
    finally:
        release(descriptor)


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

    async def start(self) -> None: ...

    @property
    def info(self) -> StoreInfo: ...

    async def execute(self, job: QueryJob, timeout: float) -> QueryOutput: ...

    async def describe(self, job: DescribeJob, timeout: float) -> Context: ...

    async def dump(self, job: DumpJob, timeout: float) -> None: ...

    async def write(self, change: "GraphChange") -> None: ...

    def exclusive(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def watch(self, listener: Callable[[], Awaitable[None]]) -> None: ...

    def adopt(self, graphs: list[GraphInfo]) -> None: ...

    @property
    def load(self) -> dict[str, int]: ...

    @property
    def spool_dir(self) -> Path: ...

    @property
    def sorted_rows(self) -> int | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class GraphChange:
    """Put new content into one named graph, replacing what it held, or (content None) remove it."""

    graph: str
    ntriples: str | None
    info: GraphInfo | None


def update_text(change: GraphChange, union: str | None = None, apart: tuple[str, ...] = (),
                staged: str | None = None) -> str:
    """One SPARQL Update that replaces the graph and keeps the union of the named graphs: the default graph, or (in
    an external store) the named graph `union`, beside graphs `apart` that are no part of it. In an external store
    the new content is in the graph `staged` already (remote.py: an engine takes it in parts), moved from there."""
    graph = f"<{change.graph}>"
    target = f"GRAPH <{union}> {{ ?s ?p ?o }}" if union else "?s ?p ?o"
    others = ", ".join(f"<{g}>" for g in (change.graph, *([union] if union else []), *apart, *([staged] if staged else [])))
    # A triple leaves the union only if no other named graph still asserts it.
    text = (
        f"DELETE {{ {target} }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER(?other NOT IN ({others})) }} }} ;\n"
        f"DROP SILENT GRAPH {graph}"
    )
    if change.ntriples and union is None:
        # One operation for both copies, so a blank node label names the same node in each.
        text += f" ;\nINSERT DATA {{\nGRAPH {graph} {{\n{change.ntriples}\n}}\n{change.ntriples}\n}}"
    elif change.ntriples:
        if staged is None:
            raise ValueError("an external store's new content is put into a staging graph first")
        # Copies within the store keep its blank nodes the same nodes in the graph and in the union. A staging graph
        # gone is not caught here (oxigraph copies a graph it does not hold as an empty one): remote.py checks first.
        text += f" ;\nCOPY <{staged}> TO {graph} ;\nADD {graph} TO <{union}> ;\nDROP SILENT GRAPH <{staged}>"
    return text


def _unique_triples(store: ox.Store, graph: str) -> int:
    """Triples of a graph that no other named graph asserts (its share of the default graph)."""
    return _count(store, f"GRAPH <{graph}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} "
                         f"FILTER(?other != <{graph}>) }}")


def apply_change(store_dir: Path, change: GraphChange) -> int:
    """Apply a change to the on-disk store (opened for writing just for it); return the default graph's growth."""
    store = ox.Store(str(store_dir))
    try:
        before = _unique_triples(store, change.graph)
        store.update(update_text(change))
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


def _read_manifest(path: Path) -> dict[str, dict[str, object]]:
    """The graphs the last sync recorded, by IRI. A manifest that cannot be read (edited, or damaged on disk) is
    only a cache of hashes: every file is loaded again, rather than stopping the server with a traceback."""
    if not path.exists():
        return {}
    try:
        graphs = json.loads(path.read_text(encoding="utf-8"))["graphs"]
        return {entry["iri"]: asdict(GraphInfo(**entry)) for entry in graphs}
    except (ValueError, TypeError, KeyError) as error:
        log.warning("store_manifest_unreadable", extra={"manifest": str(path), "reason": str(error)[:200],
                                                          "consequence": "every project file is loaded again"})
        return {}


# Called as a load goes: (bytes read so far, bytes to read in all).
LoadProgress = Callable[[int, int], None]


class _Reading:
    """A file read by the engine's parser, each read reported (it reads a few KB at a time)."""

    def __init__(self, path: Path, report: Callable[[int], None]):
        self._file = path.open("rb")
        self._report = report

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._report(len(data))
        return data

    def close(self) -> None:
        self._file.close()


def sync_files(store_dir: Path, sources: dict[str, Path], progress: LoadProgress | None = None) -> StoreInfo:
    """Bring the on-disk store in line with the source files: each file in its own named graph.

    A file whose content hash is unchanged since the last sync is not reloaded; graphs of
    files that are gone are removed. The default graph is kept as the union of the named
    graphs, materialised: pyoxigraph answers aggregates several times faster over a real
    default graph than with its union-default-graph option (0.44 s against 2.8 s at 1M
    triples), at the price of storing each triple twice and rebuilding the union when a
    file changes. The manifest of hashes is written last, so a crash at any point only
    causes a reload (and a rebuild) next time.

    Files are read once and written by pyoxigraph's bulk writer into their graph and the union at
    once; neither write holds the data in one transaction, so memory stays bounded at any size (the
    transactional `load` held 12 GB at 10M triples and had not finished in 7 minutes,
    bench/RESULTS.md). Emptying a graph is still one transaction (a changed file's graph, and the
    union before it is rebuilt): changing a file of millions of triples costs memory in proportion.
    A load cut short leaves no manifest entry for the file, whose graph is then emptied and loaded
    again. A sync that wrote anything ends with one full compaction (see below).
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = _manifest_path(store_dir)
    previous = _read_manifest(manifest_path)
    store = ox.Store(str(store_dir))
    graphs = []
    to_load: list[tuple[str, Path, str]] = []
    for iri, path in sorted(sources.items()):
        digest = file_sha256(path)
        known = previous.get(iri)
        if known is not None and known["sha256"] == digest and store.contains_named_graph(ox.NamedNode(iri)):
            graphs.append(GraphInfo(**known))
        else:
            to_load.append((iri, path, digest))
    gone = set(previous) - set(sources)
    default = ox.DefaultGraph()
    rebuild = bool(to_load or gone) or next(iter(store.quads_for_pattern(None, None, None, default)), None) is None
    if rebuild:
        store.clear_graph(default)
    for iri in [*gone, *(iri for iri, _, _ in to_load)]:
        if store.contains_named_graph(ox.NamedNode(iri)):
            store.remove_graph(ox.NamedNode(iri))
    if rebuild:
        # The graphs kept (unchanged files, submissions) are copied into the union from the store, so that their
        # blank nodes stay the same nodes (a parser names them afresh each time it reads a file).
        store.bulk_extend(
            ox.Quad(q.subject, q.predicate, q.object, default)
            for q in store.quads_for_pattern(None, None, None, None) if not isinstance(q.graph_name, ox.DefaultGraph)
        )
    report = reporter(progress, sum(path.stat().st_size for _, path, _ in to_load))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for iri, path, digest in to_load:
        reading = _Reading(path, report)
        try:
            # Read once, written twice: into its graph and into the union (changed files only reach here when the
            # union is rebuilt). Its blank nodes are named afresh: a parser otherwise keeps a label such as `_:x` as
            # the node's name, and two files that both say `_:x` would share one node (Store.load renames them too).
            parsed = ox.parse(input=reading, format=ox.RdfFormat.TURTLE, rename_blank_nodes=True)
            store.bulk_extend(_both(parsed, ox.NamedNode(iri)))  # type: ignore[arg-type]
        except SyntaxError as error:
            # No manifest is written: the next sync empties this graph and reads the file again.
            raise ProjectFileError(f"{path}: {error}") from None
        finally:
            reading.close()
        graphs.append(GraphInfo(iri, str(path), digest, _count(store, f"GRAPH <{iri}> {{ ?s ?p ?o }}"), now))
    if rebuild:
        # The bulk writer adds its files to RocksDB's level 0, where they overlap: a read merges them all, per index,
        # until they are compacted, and the workers open the store read-only, so serving never compacts it. One full
        # compaction here costs about what flush() below otherwise spends waiting for the engine's background
        # compaction to bring them under its stall limit (10M triples: 49 s against 46 s), and leaves a store whose
        # engine answers lookups and canned queries 2-3x faster (bench/RESULTS.md).
        store.optimize()
    # Counted afresh each time (0.3 s at 1M triples): submissions change the default graph too.
    default_triples = _count(store, "?s ?p ?o")
    store.flush()
    # Close the read-write handle before workers open the store read-only.
    del store
    gc.collect()
    info = info_for(graphs, default_triples)
    write_atomic(manifest_path, json.dumps({"version": info.version, "graphs": [asdict(g) for g in graphs]}, indent=2).encode())
    return info


def _both(quads: Iterator[ox.Quad], graph: ox.NamedNode) -> Iterator[ox.Quad]:
    """Each parsed triple in the named graph and in the default graph (the same blank nodes in both).

    A Turtle parser's quads are already in the default graph: they go to the union as parsed, one
    object built per triple instead of two (10M triples: 297–315 s against 355–369 s, RESULTS.md).
    """
    for quad in quads:
        yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)
        yield quad


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in pieces (a file of gigabytes is not held)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def reporter(progress: LoadProgress | None, total: int) -> Callable[[int], None]:
    """A callback told each read's size, that tells progress (bytes so far, total) every megabyte and at the end."""
    done = reported = 0

    def report(size: int) -> None:
        nonlocal done, reported
        done += size
        # Told every megabyte and at the end: the parser reads a few KB at a time (and asks again at each file's end).
        if progress is not None and size and (done - reported >= 1 << 20 or done == total):
            reported = done
            progress(done, total)

    return report


def _count(store: ox.Store, pattern: str) -> int:
    solution = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))  # type: ignore[arg-type]
    return int(solution["n"].value)


def load_project(settings: Settings, progress: LoadProgress | None = None) -> StoreInfo:
    """Publish the store's generation (made or migrated if need be) and bring it in line with the project's files.

    Writes the published generation in place: only for a process that holds the store (see hold) before any
    worker reads it — the server at start, `ilo-kg load` and `export`.
    """
    published(settings.store_dir)
    return sync_files(settings.store_dir, project_sources(settings), progress)


def info_for(graphs: list[GraphInfo], triples: int) -> StoreInfo:
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


def _generations(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + ".generations")


def published(store_dir: Path) -> Path:
    """The published generation of a store (store_dir links to it), made or migrated if need be.

    A store of an earlier layout (a plain folder) becomes generation 0; generations that are not
    published (a write cut short) are removed.
    """
    # Absolute, or the comparison with the resolved link below would find no generation published and
    # remove them all (settings are absolute already; this function is also called with paths of its own).
    store_dir = store_dir.absolute()
    generations = _generations(store_dir)
    if not store_dir.is_symlink():
        _refuse_what_is_not_a_store(store_dir)
    generations.mkdir(parents=True, exist_ok=True)
    if not store_dir.is_symlink():
        first = generations / "0"
        if store_dir.is_dir():
            store_dir.rename(first)
        else:
            first.mkdir(exist_ok=True)
        _link(store_dir, first)
    current = store_dir.resolve()
    for other in generations.iterdir():
        if other.resolve() != current:
            shutil.rmtree(other, ignore_errors=True)
    return current


def _refuse_what_is_not_a_store(store_dir: Path) -> None:
    """Refuse a path that migrating would harm: a mistyped ILOKG_STORE_DIR naming a file or someone's folder.

    An earlier layout's store (RocksDB's CURRENT file) or an empty folder is moved into the generations; anything
    else would have been moved, or replaced by the link, with its contents taken for a store.
    """
    if not store_dir.exists():
        return
    if not store_dir.is_dir():
        raise NotAStoreError(store_dir, "a file")
    if (store_dir / "CURRENT").is_file() or next(store_dir.iterdir(), None) is None:
        return
    raise NotAStoreError(store_dir, "a folder of other files")


def _link(store_dir: Path, generation: Path) -> None:
    """Point store_dir at a generation, atomically (a new link renamed over the old), and durably."""
    staged = store_dir.with_name(store_dir.name + ".link")
    staged.unlink(missing_ok=True)
    staged.symlink_to(generation.relative_to(store_dir.parent))
    os.replace(staged, store_dir)
    folder = os.open(store_dir.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _write_generation(current: Path, target: Path, change: GraphChange) -> int:
    """A new generation: the current one's checkpoint with the change applied; the default graph's growth."""
    shutil.rmtree(target, ignore_errors=True)
    ox.Store.read_only(str(current)).backup(str(target))
    return apply_change(target, change)


class EmbeddedStore:
    """The embedded on-disk pyoxigraph store, queried by worker processes with hard deadlines."""

    def __init__(self, settings: Settings, info: StoreInfo, lock: int):
        self._settings = settings
        self._info = info
        self._lock = lock
        self._spool_dir = settings.store_dir.with_name(settings.store_dir.name + "-spool")
        shutil.rmtree(self._spool_dir, ignore_errors=True)
        self._spool_dir.mkdir(parents=True)
        depth = settings.worker_pipeline_depth
        self._pool = WorkerPool(
            settings.query_workers, policy=worker_policy(settings), depth=depth,
            demote_after=settings.query_demote_after_seconds, reserved=settings.workers_reserved_for_tokens,
        )
        # The share counts places in the workers' lines: `depth` jobs each (see workers.pool).
        self._share = FairShare(
            settings.query_workers * depth, self._pool.reserved * depth, settings.queries_per_client,
            settings.queries_per_token,
        )
        self._current = settings.store_dir.resolve()  # the generation open() published
        self._readers: Counter[Path] = Counter()  # jobs scheduled on each generation and not yet done
        self._write_lock = asyncio.Lock()  # writes one at a time; reads never wait for one

    @classmethod
    def open(cls, settings: Settings) -> "EmbeddedStore":
        """Sync the project's files into the store, then start the query workers."""
        # Held for the server's life: no load or second server writes the store under its workers.
        lock = hold(settings.store_dir)
        try:
            # Before any worker starts: the only moment the published generation may be written in place
            # (through the link: the manifest stays beside it).
            return cls(settings, load_project(settings), lock)
        except BaseException:
            release(lock)
            raise

    async def start(self) -> None:
        """Start the query workers (in the event loop that will run the jobs)."""
        await self._pool.start()

    @property
    def info(self) -> StoreInfo:
        return self._info

    @property
    def load(self) -> dict[str, int]:
        """Jobs running in the query workers, and jobs waiting (in a worker's line, or to be let in)."""
        running, queued = self._pool.load
        return {"running": running, "waiting": queued + self._share.waiting}

    @property
    def spool_dir(self) -> Path:
        """Where workers write large answers."""
        return self._spool_dir

    @property
    def sorted_rows(self) -> int | None:
        """The most rows an ordered query may ask for, its offset included: none here."""
        return None

    async def execute(self, job: QueryJob, timeout: float) -> QueryOutput:
        """Run a query in a worker; past the deadline the worker is killed and replaced."""
        return await self._in_worker(query_worker.run, job, timeout)

    async def describe(self, job: DescribeJob, timeout: float) -> Context:
        """The neighbourhood of some nodes (see context_walk), computed in a worker."""
        return await self._in_worker(query_worker.describe, job, timeout)

    async def dump(self, job: DumpJob, timeout: float) -> None:
        """Write the dump files of the store (see dumps), in a worker, from the generation published when it starts.

        Raises DataChangedError if the store no longer holds job.version when the worker starts.
        """
        await self._in_worker(query_worker.dump, job, timeout, job.version, alone=True)

    async def _in_worker(self, function, job, timeout: float, version: str | None = None, alone: bool = False):  # type: ignore[no-untyped-def]
        # The deadline counts from arrival, not from when a worker takes the job: under load a
        # query waits for a worker, and its client is owed an answer by the deadline all the same.
        progress = Progress()
        try:
            requester = fair_share.current.get()
            async with asyncio.timeout(timeout), self._share.slot(requester), self._reading() as generation:
                # The version checked and the generation read are taken together: no write can come between.
                if version is not None and version != self._info.version:
                    raise DataChangedError(version)
                # The share admits no more jobs than the workers' lines hold: this one is sent now. At the deadline,
                # or when the client goes away, the task is cancelled and the pool withdraws the job or kills the
                # worker running it.
                return await self._pool.run(function, job, str(generation), reserved=requester.token_holder, alone=alone,
                                            progress=progress)
        except TimeoutError:
            ran = 0.0 if progress.started is None else asyncio.get_running_loop().time() - progress.started
            raise DeadlineExceededError(timeout, ran) from None

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[Path]:
        """The published generation, kept on disk until the job reading it is done."""
        generation = self._current
        self._readers[generation] += 1
        try:
            yield generation
        finally:
            self._readers[generation] -= 1
            if not self._readers[generation]:
                del self._readers[generation]
                self._retire()

    def _retire(self) -> None:
        """Delete the generations older than the published one that no job reads (in a thread: a large one takes
        a while). The one a write is making is newer, and left alone."""
        for old in _generations(self._settings.store_dir).iterdir():
            if old.name.isdigit() and int(old.name) < int(self._current.name) and old not in self._readers:
                retired = old.with_name(f".retired-{old.name}")
                old.rename(retired)
                threading.Thread(target=shutil.rmtree, args=(retired, True), daemon=True).start()

    async def write(self, change: GraphChange) -> None:
        """Replace or remove one named graph atomically, in a new generation; queries go on meanwhile."""
        async with self._write_lock:
            target = self._current.with_name(str(int(self._current.name) + 1))
            # Shielded: once begun, a write finishes even if its client goes away.
            growth = await asyncio.shield(asyncio.to_thread(_write_generation, self._current, target, change))
            await asyncio.shield(asyncio.to_thread(_link, self._settings.store_dir, target))
            self._current = target
            graphs = [g for g in self._info.graphs if g.iri != change.graph]
            if change.info is not None:
                graphs.append(change.info)
            self._info = info_for(graphs, self._info.triples + growth)
            self._retire()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """The right to write, with the data as it stands: here, always (this process is the store's only writer; it
        holds the store's lock, and the submissions take turns of their own)."""
        yield

    def watch(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Nothing to follow: only this process writes the store."""

    def adopt(self, graphs: list[GraphInfo]) -> None:
        """Count graphs written earlier (submissions found at start-up) in the store's description."""
        known = {g.iri for g in graphs}
        self._info = info_for([g for g in self._info.graphs if g.iri not in known] + graphs, self._info.triples)

    async def close(self) -> None:
        """Stop the workers, remove spooled answers and give the store back."""
        await self._pool.close()
        shutil.rmtree(self._spool_dir, ignore_errors=True)
        release(self._lock)
