"""An external SPARQL 1.1 store behind the server's `GraphStore` interface, over the Query, Update and Graph Store
HTTP protocols: `oxigraph serve` and Virtuoso Open Source 7 are tested; any SPARQL 1.1 store should do.

How each part of the interface maps onto the protocols:

- **The dataset.** Every query is sent with the graphs the server knows as its protocol dataset (`default-graph-uri`
  and `named-graph-uri`, one per graph), unless the client chose graphs (the request's, or its own FROM): the
  default graph is then the union of the project's graphs on every engine, without the engine's system graphs
  (Virtuoso's default graph also holds its own `virtrdf:` descriptions) and without the store's record graphs below.
  A request that gives both reaches this store without the query's FROM (sparql/service.py): the protocol's dataset
  wins, as the standard says, where Virtuoso would let the FROM win.
- **Queries** (`execute`) go through a thin keep-alive client (protocol_client.py), the answer streamed into the
  same spool as the embedded workers' (memory, then a file, capped at the size limit). The server's deadline is cut
  by closing the connection; the engine's own limit frees its CPU (`oxigraph serve --timeout-s`, Virtuoso's
  MaxQueryExecutionTime). Answers are asked for as SPARQL JSON (solutions, booleans) or N-Triples (graphs) and sent
  on as they come when the client asked for that; otherwise, and for pages and `rows`, pyoxigraph reads them and
  writes the format asked for, so every engine's answers are in the same form as the embedded store's. Virtuoso's
  answers are first made standard (JSON: `typed-literal`, `nodeID://` blank nodes, booleans as 1/0; N-Triples: its
  `# Empty NT`; both: durations as counts of months or seconds, made canonical (durations.py) line by line in a
  spooled answer). An ASK goes as the SELECT
  that has a solution when the ASK is true (Virtuoso answers `ASK { GRAPH <g> … }` true for a graph outside the
  dataset, and the same SELECT right). Before that, the service puts `FILTER(false)` in each group holding a
  `GRAPH <g>` of a graph outside the dataset (sparql/text.py: outside_graphs_emptied), which matches nothing by the
  standard and which Virtuoso answered as if it were any graph when the pattern has no variables.
- **The context of a submission** (`describe`): the neighbourhood is fetched level by level with batched `VALUES`
  queries into a scratch in-memory store, and the same walk as the embedded store's (context_walk) runs on it.
  Blank nodes are fetched with the node that reaches them, up to BLANK_DEPTH links deep (the bundled data has two).
- **Dumps**: each graph fetched by CONSTRUCT as N-Triples into a scratch on-disk store, then written by the same
  code as the embedded store's dumps (write_dumps).
- **Writes** (submissions) are SPARQL Updates, applied one at a time across every replica: a replica takes a write
  lease in the store (see _Lease) and checks the data version before writing. The new content goes first into a
  staging graph of its own, in parts of a few hundred triples (parts.py: Virtuoso refuses an update of a few
  thousand; durations bound in WHERE, durations.py); one last update then moves it into its graph and the union
  and writes the record, so readers see the whole change or none of it. Staging graphs are in no dataset; one
  left by a crash is dropped by the next write. The data version and the description of each graph live in the
  store itself, in the record graph STORE_RECORD, so every replica's caches and ETags follow a write made through
  any other within `store_poll_seconds`.
- **Loading** the project's files (`sync_store`): Graph Store Protocol PUT, one named graph per file, only the files
  whose content hash differs from the one recorded in the store.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import re
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from server.formats.registry import GRAPH_FORMATS, NTRIPLES, ROWS, SOLUTION_FORMATS, SPARQL_JSON
from server.formats.rows import rows_document
from server.namespaces import DCTERMS, GRAPH, ILOP, RDF_TYPE, SUBMISSION_GRAPHS, XSD
from server.problems import ProblemError
from server.settings import Settings
from server.store.context_walk import NOT_FOLLOWED, TYPED_ONLY, Context, walk
from server.store.dumps import write_dumps
from server.store.durations import (
    DURATION_TYPES,
    bound_in_template,
    canonical,
    canonical_in_ntriples,
    mentions_durations,
    turtle_as_written,
)
from server.store.embedded import (
    DataChangedError,
    DeadlineExceededError,
    GraphChange,
    GraphInfo,
    LoadProgress,
    ProjectFileError,
    StoreInfo,
    file_sha256,
    info_for,
    project_sources,
    reporter,
    update_text,
)
from server.store.parts import PART_TRIPLES, in_parts
from server.store.protocol_client import ProtocolClient, ProtocolError, Response
from server.store.query_worker import (
    DescribeJob,
    DumpJob,
    QueryEvaluationError,
    QueryJob,
    QueryOutput,
    QuerySyntaxError,
    Spool,
    syntax_error,
    write_page,
)
from server.workers import fair_share
from server.workers.fair_share import FairShare

log = logging.getLogger("ilokg.store")

# The store's own records: the data version and each graph's description, and the write lease's claims. They are
# never part of the dataset queries see (see the module's notes).
STORE_RECORD = f"{GRAPH}store"
STORE_LEASE = f"{GRAPH}store-lease"
# The union of the project's graphs, materialised (as the embedded store's default graph is): the default graph of
# every query. A list of graphs as the protocol's dataset gave each triple once per graph asserting it in oxigraph
# (bag semantics, not the RDF merge the standard asks for), and would grow every request with the graphs' count.
UNION = f"{GRAPH}store-union"
# The staging graphs of writes under way (see RemoteStore.write), each STAGING/<uuid>, listed in STAGING.
STAGING = f"{GRAPH}store-staging"
_DATASET = f"{GRAPH}store#dataset"
BLANK_DEPTH = 4
_WIRE_FACTOR = 4
_VIRTUOSO_LINE = re.compile(r"SPARQL compiler, line (\d+): (.*)")
# Virtuoso fails a whole query (500) on an error the standard confines to one solution, such as a type error in a
# FILTER ("Virtuoso 22023 Error SL001: The SPARQL 1.1 function STRSTARTS() needs a string value as first argument"):
# SQL's class 22, data exceptions, is the query's doing, and sending it again cannot help.
_VIRTUOSO_DATA_EXCEPTION = re.compile(r"Virtuoso 22\w{3} Error ")
_BATCH = 200
# Virtuoso's optimiser planned the blank node chains of `_described` in seconds on a store of 16,000 triples (3.7 s
# at four links, so a submission's context walk ran past its deadline), and in 0.03 s in the order they are written,
# which its pragma asks for. Sent only to an engine that takes it (see RemoteStore.start).
_WRITTEN_ORDER = 'DEFINE sql:select-option "order"\n'
# Virtuoso's refusal of an ordered query that asks for more rows than it sorts.
_SORT_LIMIT = re.compile(r"SR353: Sorted TOP clause specifies more then \d+ rows to sort\. Only (\d+) are allowed")
_SOLUTION_NAMES = {f.name for f in SOLUTION_FORMATS} | {ROWS.name}
_GRAPH_FORMATS = {f.name: f for f in GRAPH_FORMATS}
_SOLUTION_FORMATS = {f.name: f for f in SOLUTION_FORMATS}


class StoreUnavailableError(ProblemError):
    """The external store could not be reached or failed (not the request's fault): 503, the client may try again."""

    def __init__(self, reason: str):
        super().__init__(503, "The data store behind this server is unavailable at the moment; try again shortly.",
                         {"Retry-After": "5"})
        self.reason = reason  # for the log: it may name internal addresses, which clients are not told


class StoreRefusedUpdateError(StoreUnavailableError):
    """The store refused an update as such (400): nothing of it was written, and sending it again cannot help."""

    def __init__(self, engine_message: str):
        super().__init__(f"the store refused an update (400): {engine_message[:500]}")
        self.engine_message = engine_message


class StoreRefusedDataError(ProblemError):
    """The store refused the update that writes a submission's data: 422, with the engine's first line, which says
    what it could not take; nothing was written, and only a change to the data can help."""

    def __init__(self, engine_message: str, linked_triples: int = 0):
        said = " ".join(engine_message.strip().splitlines()[:1])[:300].rstrip(".") or "no reason given"
        # linked_triples: the refused part was that many triples linked by blank nodes, which go in one update.
        advice = (f"The file holds {linked_triples} triples linked by blank nodes (such as a long RDF list), which "
                  f"are written in one update, and this store cannot take that many at once: give some of those nodes "
                  f"IRIs, or make the structure smaller, then send it again." if linked_triples else
                  "Sending it again will not help: change the value it names, then send it again.")
        super().__init__(422, f"The data store behind this server refused this data, so nothing was stored. It said: "
                              f"{said}. {advice}")


class StoreBusyError(Exception):
    """The write lease could not be had in time: another replica is writing."""


# The record graph, read by every replica: the version, and each graph's description.
_RECORD_QUERY = f"""SELECT ?version ?graph ?source ?sha256 ?triples ?loaded WHERE {{
  GRAPH <{STORE_RECORD}> {{
    {{ <{_DATASET}> <{DCTERMS}hasVersion> ?version }}
    UNION
    {{ ?graph <{DCTERMS}source> ?source ; <{ILOP}contentSha256> ?sha256 ; <{ILOP}tripleCount> ?triples ;
              <{DCTERMS}modified> ?loaded }}
  }}
}}"""


def _literal(value: str, datatype: str = "string") -> str:
    return json.dumps(value, ensure_ascii=False) + f"^^<{XSD}{datatype}>"


def _record_triples(info: GraphInfo) -> str:
    graph = f"<{info.iri}>"
    return (f"{graph} <{DCTERMS}source> {_literal(info.source)} ; <{ILOP}contentSha256> {_literal(info.sha256)} ; "
            f"<{ILOP}tripleCount> {_literal(str(info.triples), 'integer')} ; "
            f"<{DCTERMS}modified> {_literal(info.loaded, 'dateTime')} .\n")


def _record_update(changed: list[GraphInfo], removed: list[str], version: str) -> str:
    """The update of the record graph: the changed graphs' descriptions, the removed ones gone, a new version."""
    parts = [f"DELETE WHERE {{ GRAPH <{STORE_RECORD}> {{ <{iri}> ?p ?o }} }}" for iri in
             [*(g.iri for g in changed), *removed]]
    parts.append(f"DELETE WHERE {{ GRAPH <{STORE_RECORD}> {{ <{_DATASET}> <{DCTERMS}hasVersion> ?v }} }}")
    body = "".join(_record_triples(g) for g in changed) + f"<{_DATASET}> <{DCTERMS}hasVersion> {_literal(version)} .\n"
    parts.append(f"INSERT DATA {{ GRAPH <{STORE_RECORD}> {{\n{body}}} }}")
    return " ;\n".join(parts)


def _term(cell: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A term of a SPARQL JSON answer (Virtuoso's older forms too)."""
    kind, value = cell["type"], cell["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(_blank_label(value))
    if "xml:lang" in cell:
        return ox.Literal(value, language=cell["xml:lang"])
    if "datatype" in cell:
        return ox.Literal(value, datatype=ox.NamedNode(cell["datatype"]))
    return ox.Literal(value)


def _blank_label(value: str) -> str:
    # Virtuoso names blank nodes `nodeID://b10000` in JSON (and `_:b10000` in N-Triples): the same node.
    label = value.removeprefix("nodeID://").removeprefix("_:")
    return label if label.isalnum() else hashlib.sha256(value.encode()).hexdigest()[:32]


def _standard_json(body: bytes) -> bytes:
    """SPARQL JSON results in the standard's form: Virtuoso writes `typed-literal`, `nodeID://` blank nodes, booleans
    as 1 and 0, durations as counts of months or seconds (durations.canonical). (An ASK is never sent as such: see
    sparql.text.ask_as_select.)"""
    if not any(marker in body for marker in (b'"typed-literal"', b"nodeID://", *_DURATIONS_IN_JSON)):
        return body
    document = json.loads(body)
    for row in document.get("results", {}).get("bindings", []):
        for cell in row.values():
            if cell.get("type") == "typed-literal":
                cell["type"] = "literal"
            if cell.get("datatype") in DURATION_TYPES:
                cell["value"] = canonical(cell.get("value", ""), cell["datatype"])
            elif cell.get("datatype") == XSD + "boolean" and cell.get("value") in _BOOLEANS:
                # Virtuoso writes its booleans as 1 and 0 (valid forms, not the canonical ones clients compare).
                cell["value"] = _BOOLEANS[cell["value"]]
            elif cell.get("type") == "bnode":
                cell["value"] = _blank_label(cell["value"])
    document.get("head", {}).pop("link", None)
    return json.dumps(document, ensure_ascii=False).encode()


_BOOLEANS = {"1": "true", "0": "false"}
# A datatype of the duration types, as SPARQL JSON writes it (a string member's value).
_DURATIONS_IN_JSON = tuple(f'{datatype}"'.encode() for datatype in sorted(DURATION_TYPES))


def _standard_ntriples(body: bytes) -> bytes:
    """N-Triples in the standard's form: Virtuoso answers a CONSTRUCT that matched nothing with the comment
    `# Empty NT` (an answer to whoever counts its bytes), and writes durations as counts (durations.canonical)."""
    if body.strip() == b"# Empty NT":
        return b""
    return canonical_in_ntriples(body)


def _standard_ntriples_spooled(output: QueryOutput, job: QueryJob) -> QueryOutput:
    """A spooled N-Triples answer in the standard's form, line by line (memory stays that of a line)."""
    spool = Spool(job)
    try:
        with open(output.path or "", "rb") as spooled:
            for line in spooled:
                spool.write(canonical_in_ntriples(line))
        return spool.output()
    except BaseException:
        spool.discard()
        raise
    finally:
        output.discard()


class _Lease:
    """The write lease: at most one replica writes at a time, whatever the engine's isolation; first come, first served.

    Safety: a replica claims by inserting a claim of its own (a fresh IRI, with the store's time), then reads all
    claims, and holds the lease only if its claim is the only one. Two replicas that claim at once both see two
    claims and withdraw; a claim made after another replica's read is seen by its maker, who withdraws. So two
    replicas never both hold it, as long as each update is atomic and reads see what was written before them.

    Fairness: a replica that wants the lease first says since when it waits; it claims only when no claim is there and
    nobody has waited longer (without this, the replica that just released the lease, claiming again at once, kept
    winning). The holder renews its claim every third of the lease, a waiter its wait at each look; a claim or wait
    not renewed for the lease's length (its replica died) is removed by whoever finds it.
    """

    def __init__(self, store: "RemoteStore", seconds: float, patience: float):
        self._store, self._seconds, self._patience = store, seconds, patience

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        me = f"urn:uuid:{uuid.uuid4()}"
        deadline = time.monotonic() + self._patience
        try:
            await self._store.update(self._stamp(me, "date") + " ;\n" + self._stamp(me, "modified"))
            while not await self._try(me):
                if time.monotonic() > deadline:
                    raise StoreBusyError()
                await asyncio.sleep(random.uniform(0.03, 0.15))
                await self._store.update(self._stamp(me, "modified"))
            renewing = asyncio.create_task(self._renew(me))
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
        finally:
            await asyncio.shield(self._store.update(f"DELETE WHERE {{ GRAPH <{STORE_LEASE}> {{ <{me}> ?p ?o }} }}"))

    async def _try(self, me: str) -> bool:
        """Claim if it is this replica's turn; whether it holds the lease now."""
        entries = await self._entries(me)
        mine = entries.pop(me, {})
        if any("created" in e for e in entries.values()):
            return False  # held, or being claimed
        since = (mine.get("date", ""), me)
        if any((e.get("date", ""), node) < since for node, e in entries.items() if "date" in e):
            return False  # someone has waited longer
        await self._store.update(self._stamp(me, "created"))
        others = await self._entries(me)
        others.pop(me, None)
        if not any("created" in e for e in others.values()):
            return True
        await self._store.update(f"DELETE WHERE {{ GRAPH <{STORE_LEASE}> {{ <{me}> <{DCTERMS}created> ?t }} }}")
        return False

    @staticmethod
    def _stamp(me: str, what: str) -> str:
        """Set one of this replica's times to the store's now (date: waiting since; modified: still waiting;
        created: claimed)."""
        return (f"DELETE WHERE {{ GRAPH <{STORE_LEASE}> {{ <{me}> <{DCTERMS}{what}> ?t }} }} ;\n"
                f"INSERT {{ GRAPH <{STORE_LEASE}> {{ <{me}> <{DCTERMS}{what}> ?now }} }} WHERE {{ BIND(NOW() AS ?now) }}")

    async def _entries(self, me: str) -> dict[str, dict[str, str]]:
        """The claims and waits in the store, by replica, those gone stale removed."""
        rows = await self._store.select(
            f"SELECT ?node ?what ?time (NOW() AS ?now) WHERE {{ GRAPH <{STORE_LEASE}> {{ ?node ?what ?time }} }}",
            dataset=False,
        )
        entries: dict[str, dict[str, str]] = {}
        now = ""
        for row in rows:
            now = row["now"]["value"]
            entries.setdefault(row["node"]["value"], {})[row["what"]["value"].removeprefix(DCTERMS)] = row["time"]["value"]
        for node, times in list(entries.items()):
            fresh = max(times.get("created", ""), times.get("modified", ""), times.get("date", ""))
            if node != me and fresh and _seconds_between(fresh, now) > self._seconds:
                log.warning("write lease expired", extra={"holder": node, "age_seconds": round(_seconds_between(fresh, now), 1)})
                await self._store.update(f"DELETE WHERE {{ GRAPH <{STORE_LEASE}> {{ <{node}> ?p ?o }} }}")
                del entries[node]
        return entries

    async def _renew(self, me: str) -> None:
        pause = self._seconds / 3
        while True:
            await asyncio.sleep(pause)
            try:
                await self._store.update(self._stamp(me, "created"))
                pause = self._seconds / 3
            except StoreUnavailableError as error:
                # The holder's work goes on (a long load); the claim is renewed again soon, well within the lease.
                log.warning("write_lease_renewal_failed", extra={"reason": error.reason[:500]})
                pause = min(1.0, self._seconds / 10)


def _seconds_between(earlier: str, later: str) -> float:
    def parse(value: str) -> datetime:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return (parse(later) - parse(earlier)).total_seconds()


class RemoteStore:
    """An external SPARQL 1.1 store (see the module's notes)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._query = ProtocolClient(settings.store_url or "", max_idle=settings.store_connections)
        auth: httpx.Auth | None = None
        if settings.store_user is not None:
            password = settings.store_password.get_secret_value() if settings.store_password else ""
            auth = (httpx.DigestAuth(settings.store_user, password) if settings.store_auth == "digest"
                    else httpx.BasicAuth(settings.store_user, password))
        self._writer = httpx.AsyncClient(auth=auth, timeout=settings.store_write_timeout_seconds)
        self._share = FairShare(settings.store_connections, 0, settings.queries_per_client, settings.queries_per_token)
        self._spool_dir = Path(tempfile.mkdtemp(prefix="ilokg-spool-"))
        self._info = StoreInfo((), "", datetime.now(UTC), 0)
        self._lease = _Lease(self, settings.store_lease_seconds, patience=60.0)
        self._listeners: list[Callable[[], Awaitable[None]]] = []
        self._poller: asyncio.Task[None] | None = None
        self._local = asyncio.Lock()
        self._in_written_order = ""  # what asks the engine to join in the order written, if it can (see start)
        self._sorted_rows: int | None = None  # the engine's limit on an ordered query's LIMIT + OFFSET (see start)

    # Opening, and following the other replicas

    async def start(self) -> None:
        """Put the project's files into the store (only the changed ones) and follow its version from then on."""
        try:
            probe = QueryJob(_WRITTEN_ORDER + "SELECT * WHERE { }", SPARQL_JSON.name, max_bytes=1 << 16,
                             dataset_in_query=True)
            status, _ = await self._post_query(probe, SPARQL_JSON.media_type, lambda data: None)
            self._in_written_order = _WRITTEN_ORDER if status == 200 else ""
            await self.sync_files(project_sources(self._settings))
            self._sorted_rows = await self._sort_limit()
        except (httpx.HTTPError, ProtocolError) as error:
            raise StoreUnavailableError(f"the external store at {self._settings.store_url} cannot be used: {error}") from None
        self._poller = asyncio.create_task(self._follow())

    def watch(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call listener after the data changes through another replica."""
        self._listeners.append(listener)

    async def _follow(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._settings.store_poll_seconds)
            try:
                async with self._local:  # the process's turn, as refresh needs
                    changed = await self.refresh()
                if changed:
                    for listener in self._listeners:
                        await listener()
                if failing:
                    log.warning("store_version_check_recovered")
                failing = False
            except Exception:  # the store away for a while: the next rounds try again; said once, not every round
                if not failing:
                    log.warning("store_version_check_failed", exc_info=True)
                failing = True

    async def refresh(self) -> bool:
        """Read the data version and graph descriptions from the store; whether they changed. Only in the process's
        turn (self._local held): a read begun before its own write and ended after it would put the older version
        back, and its graphs (queries, the submission records' among them, would leave the new graph out)."""
        graphs, version = await self._records()
        if version == self._info.version:
            return False
        self._info = replace(info_for(graphs, await self.count(UNION)), version=version)
        return True

    async def _records(self) -> tuple[list[GraphInfo], str]:
        version, graphs = "", []
        for row in await self.select(_RECORD_QUERY, dataset=False):
            value = {name: cell["value"] for name, cell in row.items()}
            if "version" in value:
                version = value["version"]
            else:
                graphs.append(GraphInfo(value["graph"], value["source"], value["sha256"], int(value["triples"]),
                                        value["loaded"]))
        return graphs, version

    @property
    def info(self) -> StoreInfo:
        return self._info

    @property
    def load(self) -> dict[str, int]:
        """Queries sent to the store now, and queries waiting their turn."""
        return {"running": self._share.running, "waiting": self._share.waiting}

    @property
    def spool_dir(self) -> Path:
        """Where large answers are written."""
        return self._spool_dir

    @property
    def sorted_rows(self) -> int | None:
        """The most rows an ordered query may ask for, its offset included (Virtuoso's MaxSortedTopRows), or None."""
        return self._sorted_rows

    async def _sort_limit(self) -> int | None:
        # Virtuoso refuses an ordered query whose LIMIT + OFFSET passes MaxSortedTopRows (10,000 by default), but
        # only once a row reaches the sort: so the probe orders the one-row record written just before (cheap
        # anywhere), asking for far more rows than any store sorts.
        probe = QueryJob(f"SELECT ?p WHERE {{ GRAPH <{STORE_RECORD}> {{ <{_DATASET}> ?p ?o }} }} ORDER BY ?p "
                         "LIMIT 1 OFFSET 2000000000", SPARQL_JSON.name, max_bytes=1 << 16, dataset_in_query=True)
        status, message = await self._post_query(probe, SPARQL_JSON.media_type, lambda data: None)
        limit = _SORT_LIMIT.search(message) if status != 200 else None
        return int(limit.group(1)) if limit else None

    # Queries

    async def execute(self, job: QueryJob, timeout: float) -> QueryOutput:
        """Run a query in the store, by the deadline; the answer in the job's format (see the module's notes)."""
        loop = asyncio.get_running_loop()
        started: float | None = None
        try:
            async with asyncio.timeout(timeout), self._share.slot(fair_share.current.get()):
                started = loop.time()
                return await self._execute(job)
        except TimeoutError:
            # How long it ran in the store, its wait for a turn left out (as the embedded store reports it).
            raise DeadlineExceededError(timeout, 0.0 if started is None else loop.time() - started) from None

    async def _execute(self, job: QueryJob) -> QueryOutput:
        solutions = job.result_format in _SOLUTION_NAMES
        wire = SPARQL_JSON if solutions else NTRIPLES
        passed_on = job.page_size is None and job.result_format == wire.name
        # An answer to convert may be larger on the wire than written (SPARQL JSON is about three times CSV): the
        # size limit applies to what the client receives, the wire answer is capped at a multiple of it.
        spool = Spool(job if passed_on else replace(job, result_format=wire.name, max_bytes=job.max_bytes * _WIRE_FACTOR))
        try:
            status, text = await self._post_query(job, wire.media_type, spool.write)
        except BaseException:
            spool.discard()
            raise
        if status != 200:
            spool.discard()
            raise _query_error(status, text)
        output = spool.output()
        if job.ask_as_select:
            solutions_given = bool(json.loads(output.read())["results"]["bindings"])
            body = json.dumps({"head": {}, "boolean": solutions_given}).encode()
            output = QueryOutput(len(body), body)
        if passed_on and output.body is not None:
            body = _standard_json(output.body) if solutions else _standard_ntriples(output.body)
            return replace(output, body=body, size=len(body))
        if passed_on and not solutions:
            return await asyncio.to_thread(_standard_ntriples_spooled, output, job)
        return await asyncio.to_thread(_convert, output, job, solutions)

    async def _post_query(self, job: QueryJob, accept: str, sink: Callable[[bytes], object]) -> tuple[int, str]:
        fields: list[tuple[str, str]] = [("query", job.query)]
        if job.default_graphs is not None or job.named_graphs is not None:
            fields += [("default-graph-uri", g) for g in job.default_graphs or ()]
            fields += [("named-graph-uri", g) for g in job.named_graphs or ()]
        elif not job.dataset_in_query:
            fields += [("default-graph-uri", UNION)] + [("named-graph-uri", g.iri) for g in self._info.graphs]
        errors: list[bytes] = []

        def take(response: Response, data: bytes) -> None:
            # The status is known before the body arrives: an error's text is kept apart from the answer.
            if response.status == 200:
                sink(data)
            elif sum(map(len, errors)) < 4096:
                errors.append(data)

        headers = {"content-type": "application/x-www-form-urlencoded", "accept": accept}
        try:
            response = await self._query.post(urlencode(fields).encode(), headers, take)
        except ProtocolError as error:
            raise StoreUnavailableError(str(error)) from None
        if any(name.startswith("x-sql-") for name in response.headers) and response.status == 200:
            # Virtuoso's "anytime" answers are partial: never sent as a complete one.
            raise QueryEvaluationError("the store gave a partial answer (it ran out of time or rows)")
        return response.status, b"".join(errors).decode("utf-8", "replace")

    async def select(self, query: str, dataset: bool = True) -> list[dict[str, dict[str, str]]]:
        """The solutions of one of the store's own queries (SPARQL JSON bindings), over the project's dataset or
        (dataset False) the whole store."""
        job = QueryJob(query, SPARQL_JSON.name, max_bytes=self._settings.max_result_bytes, inline_bytes=1 << 62,
                       dataset_in_query=not dataset)
        try:
            output = await self.execute(job, self._settings.query_timeout_seconds * 6)
        except (QuerySyntaxError, QueryEvaluationError) as error:
            # The server's own query refused: the engine's fault or ours, never the client's.
            message = error.message if isinstance(error, QuerySyntaxError) else str(error)
            log.error("store_refused_own_query", extra={"engine_message": message[:2000], "query": query[:2000]})
            raise StoreUnavailableError(message) from None
        return json.loads(output.read())["results"]["bindings"]

    async def update(self, text: str) -> None:
        """Send one SPARQL Update (atomic in the engines tested); one the engine rolled back as a deadlock (Virtuoso's
        SR172, beside a long load) is sent again, a few times."""
        for attempt in range(4):
            try:
                response = await self._writer.post(self._settings.store_update_url or "", data={"update": text})
            except httpx.HTTPError as error:
                raise StoreUnavailableError(f"the store's update endpoint failed: {error}") from None
            if response.status_code < 300:
                return
            if "deadlock" not in response.text[:300].lower() or attempt == 3:
                log.warning("store_refused_update", extra={"status": response.status_code,
                                                           "engine_message": response.text[:2000]})
                # Virtuoso answers a value it cannot take with 500 and a data exception (a time without a zone:
                # 22007 "Cannot convert T09:30:00 to time"; a year before 1), which sending again cannot help either.
                if response.status_code == 400 or _VIRTUOSO_DATA_EXCEPTION.match(response.text):
                    raise StoreRefusedUpdateError(response.text)
                raise StoreUnavailableError(f"the store refused an update ({response.status_code}): {response.text[:500]}")
            await asyncio.sleep(random.uniform(0.1, 0.5) * (attempt + 1))

    # The context of a submission, and dumps

    async def describe(self, job: DescribeJob, timeout: float) -> Context:
        """The neighbourhood of some nodes, fetched into a scratch store, walked as the embedded store walks it."""
        try:
            async with asyncio.timeout(timeout):
                scratch = ox.Store()
                seen: set[str] = set()
                frontier = list(job.seeds)
                for _ in range(job.depth):
                    nodes = sorted({n for n in frontier if n not in seen})
                    seen.update(nodes)
                    frontier = []
                    for start in range(0, len(nodes), _BATCH):
                        batch = nodes[start:start + _BATCH]
                        frontier += await self._fetch_described(scratch, _outgoing(batch), job.excluded_graph)
                        if job.inverse_predicates:
                            frontier += await self._fetch_described(scratch, _incoming(batch, job.inverse_predicates),
                                                                    job.excluded_graph)
                # The walk takes the types of the objects it does not follow (a scheme's top concepts) too.
                typed_only = [q.object.value for p in TYPED_ONLY for q in scratch.quads_for_pattern(None, ox.NamedNode(p), None)
                              if isinstance(q.object, ox.NamedNode)]
                last = sorted({n for n in [*frontier, *typed_only] if n not in seen})
                for start in range(0, len(last), _BATCH):
                    await self._fetch(scratch, _types(last[start:start + _BATCH]))
                return await asyncio.to_thread(
                    walk, scratch, job.seeds, job.inverse_predicates, job.depth, job.max_triples, job.excluded_graph,
                    job.own_subjects,
                )
        except TimeoutError:
            raise DeadlineExceededError(timeout, timeout) from None

    async def _fetch_described(self, scratch: ox.Store, roots: Callable[[str], str], excluded: str | None) -> list[str]:
        """The quads of the nodes roots binds and of the blank nodes below them, level by level, into the scratch
        store (blank nodes are the same nodes across answers: the engines tested name them by their stored
        identity), those of the excluded graph left out (the walk leaves them out too); the IRIs they lead to."""
        reached = []
        for level in range(BLANK_DEPTH + 1):
            found = await self._fetch(scratch, self._in_written_order + _described(roots, level, excluded))
            if found is None:
                break
            reached += found
        return reached

    async def _fetch(self, scratch: ox.Store, query: str) -> list[str] | None:
        """Put the quads a neighbourhood query finds into the scratch store, in their graph and the default graph;
        the IRIs they lead to."""
        reached = []
        quads = []
        for row in await self.select(query):
            subject, predicate, obj = _term(row["s"]), _term(row["p"]), _term(row["o"])
            for graph in (ox.NamedNode(row["g"]["value"]), ox.DefaultGraph()):
                quads.append(ox.Quad(subject, predicate, obj, graph))  # type: ignore[arg-type]
            for node in (subject, obj):
                if isinstance(node, ox.NamedNode) and predicate.value not in NOT_FOLLOWED:
                    reached.append(node.value)
        if not quads:
            return None
        scratch.extend(quads)
        return reached

    async def dump(self, job: DumpJob, timeout: float) -> None:
        """Write the dump files: each graph fetched as N-Triples into a scratch store, then written as the embedded
        store's are. Raises DataChangedError if the store no longer holds job.version."""
        if job.version != self._info.version:
            raise DataChangedError(job.version)
        scratch_dir = Path(tempfile.mkdtemp(prefix="dump-", dir=self._spool_dir))
        try:
            async with asyncio.timeout(timeout):
                scratch = ox.Store(str(scratch_dir))
                for index, graph in enumerate(sorted(job.graphs)):
                    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
                    output = await self._execute(QueryJob(query, NTRIPLES.name, max_bytes=1 << 62, inline_bytes=1 << 20,
                                                          spool_dir=str(self._spool_dir), dataset_in_query=True))
                    await asyncio.to_thread(_load_graph, scratch, output, graph, index)
                await asyncio.to_thread(write_dumps, scratch, Path(job.target), list(job.graphs))
                del scratch
        except TimeoutError:
            raise DeadlineExceededError(timeout, timeout) from None
        finally:
            shutil.rmtree(scratch_dir, ignore_errors=True)

    # Writes

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the write lease (across replicas), with the store's description read afresh."""
        async with self._local:
            try:
                async with self._lease.held():
                    # Its caller reads what it keeps afresh if the version moved (listeners would wait for the caller).
                    await self.refresh()
                    # Staging graphs listed now are no write's under way (the lease is this replica's): a crash's.
                    await self._drop_staging(await self._listed_staging())
                    yield
            except StoreBusyError:
                raise StoreUnavailableError("another replica has held the store's write lease for too long") from None

    async def write(self, change: GraphChange) -> None:
        """Replace or remove one named graph, and record it with a new version (under exclusive): the new content
        staged in parts, then one update that moves it into place and writes the record (see the module's notes)."""
        staged = await self._staged(change.ntriples) if change.ntriples else None
        await self._moved(change, staged)

    async def _moved(self, change: GraphChange, staged: str | None) -> None:
        """The write's last update: the staged content moved into place, the union kept, the record written.

        The staging graph is first checked to be still listed: if this replica lost the write lease while staging
        (its renewals failing for a whole lease), the next holder dropped it, and moving what is left of it would
        store part of the file; the write fails instead (503: sending it again works)."""
        if staged is not None and staged not in await self._listed_staging():
            await self._drop_staging([staged])
            raise StoreUnavailableError(f"the staging graph {staged} was dropped before the write ended: another "
                                        "replica took the write lease meanwhile")
        text = update_text(change, UNION, (STORE_RECORD, STORE_LEASE, STAGING), staged)
        version = secrets.token_hex(10)
        changed = [change.info] if change.info is not None else []
        text += " ;\n" + _record_update(changed, [] if changed else [change.graph], version)
        if staged is not None:
            text += f" ;\nDELETE WHERE {{ GRAPH <{STAGING}> {{ <{staged}> ?p ?o }} }}"  # the move dropped the graph
        try:
            await asyncio.shield(self.update(text))
        except BaseException:
            if staged is not None:
                await asyncio.shield(self._drop_staging([staged]))
            raise
        graphs = [g for g in self._info.graphs if g.iri != change.graph] + changed
        self._info = replace(info_for(graphs, await self.count(UNION)), version=version)

    async def _staged(self, ntriples: str) -> str:
        """A new staging graph holding the content, listed in STAGING until the write is done."""
        staged = f"{STAGING}/{uuid.uuid4()}"
        await self.update(f"INSERT {{ GRAPH <{STAGING}> {{ <{staged}> <{DCTERMS}created> ?now }} }} "
                          f"WHERE {{ BIND(NOW() AS ?now) }}")
        part = ""
        try:
            for part in await asyncio.to_thread(in_parts, ntriples):
                template, binds = bound_in_template(part)
                await self.update(f"INSERT {{ GRAPH <{staged}> {{\n{template}\n}} }} WHERE {{ {binds} }}")
        except StoreRefusedUpdateError as refused:
            # The parts are the submitted content alone: it is a value of it the engine cannot take (Virtuoso: an
            # integer past 64 bits, an ill-typed one), or a part larger than parts are, which only blank nodes make.
            await self._drop_staging([staged])
            triples = part.count("\n")
            raise StoreRefusedDataError(refused.engine_message, triples if triples > PART_TRIPLES else 0) from None
        except BaseException:
            await asyncio.shield(self._drop_staging([staged]))
            raise
        return staged

    async def _listed_staging(self) -> list[str]:
        rows = await self.select(f"SELECT ?g WHERE {{ GRAPH <{STAGING}> {{ ?g ?p ?o }} }}", dataset=False)
        return sorted({row["g"]["value"] for row in rows})

    async def _drop_staging(self, graphs: list[str]) -> None:
        """Drop staging graphs and their listing; a failure is logged (the next write drops them again)."""
        if not graphs:
            return
        text = " ;\n".join(f"DROP SILENT GRAPH <{g}> ;\nDELETE WHERE {{ GRAPH <{STAGING}> {{ <{g}> ?p ?o }} }}"
                            for g in graphs)
        try:
            await self.update(text)
        except StoreUnavailableError as error:
            log.warning("staging_graph_not_dropped", extra={"graphs": graphs, "reason": error.reason[:500]})

    def adopt(self, graphs: list[GraphInfo]) -> None:
        """Nothing to do: submissions' graphs are described in the store's record graph, written with them."""

    async def sync_files(self, sources: dict[str, Path], progress: LoadProgress | None = None,
                         engine_loaded: bool = False) -> StoreInfo:
        """Put the project's files into the store, each in its named graph, only those changed since (see sync_store)."""
        async with self.exclusive():
            return await sync_store(self, sources, progress, engine_loaded)

    async def put_graph(self, iri: str, path: Path, report: Callable[[int], None]) -> None:
        """Replace a named graph with a Turtle file's content (Graph Store Protocol PUT, streamed); a file that holds
        durations goes as N-Triples with each in the form every engine reads as the same value (durations.py)."""
        if not await asyncio.to_thread(mentions_durations, path):
            await self._put(iri, path, "text/turtle", report)
            return
        with tempfile.NamedTemporaryFile(dir=self._spool_dir, suffix=".nt") as written:
            try:
                await asyncio.to_thread(turtle_as_written, path, written)
            except SyntaxError as error:
                raise ProjectFileError(f"{path}: {error}") from None
            written.flush()
            await self._put(iri, Path(written.name), NTRIPLES.media_type, lambda size: None)
        report(path.stat().st_size)

    async def _put(self, iri: str, path: Path, media_type: str, report: Callable[[int], None]) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            with path.open("rb") as file:
                while chunk := await asyncio.to_thread(file.read, 1 << 20):
                    report(len(chunk))
                    yield chunk

        # A first small request lets digest authentication learn its challenge: a stream cannot be sent twice.
        await self.update(f"DROP SILENT GRAPH <{iri}>")
        # With its length: sent chunked, Virtuoso took the graph but misread the next request on the connection.
        headers = {"content-type": media_type, "content-length": str(path.stat().st_size)}
        response = await self._writer.put(self._settings.store_graph_store_url or "", params={"graph": iri},
                                          content=chunks(), headers=headers)
        if response.status_code >= 300:
            raise StoreUnavailableError(f"the store refused {path.name} ({response.status_code}): {response.text[:500]}")

    async def count(self, graph: str) -> int:
        """Triples in one named graph."""
        rows = await self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", dataset=False)
        return int(rows[0]["n"]["value"])

    async def close(self) -> None:
        """Stop following the store and close the connections."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self._query.close()
        await self._writer.aclose()
        shutil.rmtree(self._spool_dir, ignore_errors=True)


class LoadRefusedError(Exception):
    """A load that would leave the store inconsistent (its message says what to do instead)."""


async def sync_store(store: RemoteStore, sources: dict[str, Path], progress: LoadProgress | None = None,
                     engine_loaded: bool = False) -> StoreInfo:
    """Bring the store's graphs of files in line with the files (under the store's write lease).

    A file whose content hash is the one the store records is not sent again; graphs of files that are gone are
    dropped (graphs of submissions are left alone); the record graph is updated, with a new version if anything
    changed, last: a load cut short leaves the old record, and the next load sends those files again.

    engine_loaded: a changed file whose graph the store already holds was put there by the engine's own bulk loader
    (into its graph and into the union graph): it is recorded as it is, not sent, and the union is not rebuilt
    (rebuilding copies every graph: one update of the whole dataset, more than an engine's memory at 10M triples);
    the files sent are added to the union.
    """
    known = {g.iri: g for g in store.info.graphs}
    to_load = []
    for iri, path in sorted(sources.items()):
        digest = await asyncio.to_thread(file_sha256, path)
        if known.get(iri) is None or known[iri].sha256 != digest:
            to_load.append((iri, path, digest))
    gone = [iri for iri in known if iri not in sources and not iri.startswith(SUBMISSION_GRAPHS)]
    if not to_load and not gone and store.info.version:
        return store.info
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    recorded = []  # files the engine's loader put in: recorded, not sent
    if engine_loaded:
        if gone or any(iri in known for iri, _, _ in to_load):
            raise LoadRefusedError(
                "files were removed or changed since the store's last load, and the union graph holds their old "
                "triples: load without --engine-loaded (the union is then rebuilt), or empty the store first")
        held = {iri: await store.count(iri) for iri, _, _ in to_load}
        recorded = [GraphInfo(iri, str(path), digest, held[iri], now) for iri, path, digest in to_load if held[iri]]
        to_load = [(iri, path, digest) for iri, path, digest in to_load if not held[iri]]
    report = reporter(progress, sum(path.stat().st_size for _, path, _ in to_load))
    sent = []
    for iri, path, digest in to_load:
        await store.put_graph(iri, path, report)
        sent.append(GraphInfo(iri, str(path), digest, await store.count(iri), now))
    for iri in gone:
        await store.update(f"DROP SILENT GRAPH <{iri}>")
    # The union rebuilt from all the graphs (kept ones too, and submissions): the copies of the graphs' own blank
    # nodes. A load cut short leaves the old record, so the next one rebuilds it again.
    # One statement per graph: an engine's limit on a statement's time (Virtuoso's MaxQueryExecutionTime) then
    # bounds the largest graph's copy, not the whole dataset's.
    if engine_loaded:
        graphs = sorted(g.iri for g in sent)
    else:
        graphs = sorted({*(g.iri for g in store.info.graphs if g.iri not in gone), *(g.iri for g in sent)})
        await store.update(f"DROP SILENT GRAPH <{UNION}>")
    for graph in graphs:
        await store.update(f"INSERT {{ GRAPH <{UNION}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    await store.update(_record_update([*recorded, *sent], gone, secrets.token_hex(10)))
    await store.refresh()
    return store.info


def _query_error(status: int, text: str) -> Exception:
    """What an engine's refusal of a query means: the query's fault (400: its syntax; other: its evaluation, and
    Virtuoso's data exceptions), its deadline (the engine's own limit), or the store's state (the client may try
    again)."""
    message = " ".join(text.split())[:1000] or f"the store answered {status}"
    if status == 400:
        # Virtuoso names the line only ("SPARQL compiler, line 2: syntax error"), and quotes the query after it.
        virtuoso = _VIRTUOSO_LINE.search(message)
        if virtuoso:
            return QuerySyntaxError(virtuoso.group(2).split(" SPARQL query:")[0].strip(), int(virtuoso.group(1)))
        return syntax_error(message)
    if status >= 500 and ("timed out" in message.lower() or "timeout" in message.lower()):
        return TimeoutError()
    if status >= 500 and _VIRTUOSO_DATA_EXCEPTION.match(message):
        return QueryEvaluationError(message.split(" SPARQL query:")[0].strip())
    if status >= 500 or status in (401, 403, 404, 407):
        # The engine's own trouble (oxigraph serve out of threads: "Resource temporarily unavailable"), or ours
        # with it (credentials, addresses): not the query's fault. The reason goes to the log, not to the client.
        log.error("store_failed_query", extra={"status": status, "engine_message": message})
        return StoreUnavailableError(f"the store answered {status}: {message}")
    return QueryEvaluationError(message)


def _convert(output: QueryOutput, job: QueryJob, solutions: bool) -> QueryOutput:
    """Write the engine's answer (SPARQL JSON or N-Triples) in the job's format, with pyoxigraph (see the notes)."""
    spool = Spool(job)
    try:
        body = output.read()
        if solutions:
            results = ox.parse_query_results(_standard_json(body), format=ox.QueryResultsFormat.JSON)
            more = False
            if job.page_size is not None and isinstance(results, ox.QuerySolutions):
                more = write_page(results, job, job.page_size, spool)
            elif job.result_format == ROWS.name and isinstance(results, ox.QuerySolutions):
                spool.write(rows_document(results))
            else:
                results.serialize(spool, format=_SOLUTION_FORMATS[job.result_format].oxigraph)
            return spool.output(more)
        triples = ox.parse(_standard_ntriples(body), format=ox.RdfFormat.N_TRIPLES)
        ox.serialize(triples, spool, format=_GRAPH_FORMATS[job.result_format].oxigraph)  # type: ignore[arg-type]
        return spool.output()
    except BaseException:
        spool.discard()
        raise


def _load_graph(scratch: ox.Store, output: QueryOutput, graph: str, index: int) -> None:
    """One graph's N-Triples into the scratch store, its blank nodes kept apart from other graphs' (an engine may
    number them per answer; the answer is in the standard's form, see RemoteStore._execute)."""
    path = output.path
    source = output.body if output.body is not None else open(path or "", "rb")  # noqa: SIM115
    try:
        target = ox.NamedNode(graph)
        scratch.bulk_extend(
            ox.Quad(_apart(q.subject, index), q.predicate, _apart(q.object, index), target)  # type: ignore[arg-type]
            for q in ox.parse(source, format=ox.RdfFormat.N_TRIPLES)
        )
    finally:
        if not isinstance(source, bytes):
            source.close()
        output.discard()


def _apart(term: object, index: int) -> object:
    return ox.BlankNode(f"g{index}x{term.value}") if isinstance(term, ox.BlankNode) else term


def _values(nodes: list[str]) -> str:
    return " ".join(f"<{n}>" for n in nodes)


def _described(roots: Callable[[str], str], level: int, excluded: str | None = None) -> str:
    """The quads (?g ?s ?p ?o) of the nodes a pattern binds (roots, given the variable to bind) or, at level > 0, of
    the blank nodes that many links below them. One query per level, plain patterns only: Virtuoso 7.2 failed on the
    same as one query of UNIONs and BINDs (an internal error of its compiler). The quads of graph `excluded` are
    left out: a submission being replaced of 100,000 triples was sent whole, past the context walk's deadline."""
    quads = "GRAPH ?g { ?s ?p ?o }" + (f" FILTER(?g != <{excluded}>)" if excluded else "")
    if level == 0:
        return f"SELECT ?g ?s ?p ?o WHERE {{ {roots('?s')} {quads} }}"
    chain, previous = "", "?root"
    for step in range(1, level + 1):
        node = "?s" if step == level else f"?b{step}"
        chain += f" {previous} ?l{step} {node} . FILTER(isBlank({node}))"
        previous = node
    return f"SELECT ?g ?s ?p ?o WHERE {{ {roots('?root')}{chain} {quads} }}"


def _outgoing(nodes: list[str]) -> Callable[[str], str]:
    return lambda variable: f"VALUES {variable} {{ {_values(nodes)} }}"


def _incoming(nodes: list[str], predicates: tuple[str, ...]) -> Callable[[str], str]:
    # The subjects pointing at the nodes through the predicates (a blank subject is described with them).
    return lambda variable: (f"VALUES ?target {{ {_values(nodes)} }} VALUES ?via {{ {_values(list(predicates))} }} "
                             f"{variable} ?via ?target .")


def _types(nodes: list[str]) -> str:
    return (f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(nodes)} }} VALUES ?p {{ <{RDF_TYPE}> }} "
            f"GRAPH ?g {{ ?s ?p ?o }} }}")

