"""What runs inside a query worker process: open the store read-only, run one query, serialise it.

The server runs every query in a worker process so that a query past its deadline can be
stopped for real (its process is killed and replaced): pyoxigraph offers no way to cancel a
running query from Python, and a thread cannot be killed. Results are serialised here, in
the worker, so the deadline covers the whole answer and the server never sends a truncated
200. Small results come back in memory; larger ones are spooled to a file that the server
streams and deletes.

A job that runs long gives way to short ones: the pool demotes it (see workers.worker_process).
"""

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from server.formats.registry import GRAPH_FORMATS, ROWS, SOLUTION_FORMATS, TSV
from server.formats.rows import rows_document
from server.formats.xml_characters import NotXmlCharacterError, XmlOutputGuard
from server.store.context_walk import Context, walk

_FORMATS = {f.name: f.oxigraph for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)}
_XML_FORMATS = {f.name: f for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS) if f.xml}
_POSITION = re.compile(r"^error at (\d+):(\d+): ?")
_store: ox.Store | None = None
_generation = ""


@dataclass(frozen=True)
class QueryJob:
    """One query to run, with its dataset, answer format and limits (sent to a worker)."""

    query: str
    result_format: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_bytes: int = 256 * 1024 * 1024
    inline_bytes: int = 1024 * 1024
    spool_dir: str | None = None
    # Whether the query calls allowlisted endpoints through the relay (the text check found them):
    # only then may the engine's network errors be shown, and they come from our own relay.
    federated: bool = False
    # A page of a SELECT (a canned query's): the query asks for one solution more than this, the
    # answer holds this many, and says whether there was another (QueryOutput.more).
    page_size: int | None = None
    # The query names its own dataset (FROM, FROM NAMED): an external store is then sent no protocol dataset.
    dataset_in_query: bool = False
    # An ASK sent to an external store as a SELECT (sparql.text.ask_as_select): its answer is whether a solution came.
    ask_as_select: bool = False


@dataclass(frozen=True)
class DumpJob:
    """The dump files of some named graphs, to write into a folder (see dumps.write_dumps)."""

    target: str
    graphs: tuple[str, ...]
    version: str  # the data version the dump is of: refused if the store holds another by then


@dataclass(frozen=True)
class DescribeJob:
    """The neighbourhood of some nodes to collect: see context_walk.walk."""

    seeds: tuple[str, ...]
    inverse_predicates: tuple[str, ...]
    depth: int
    max_triples: int
    excluded_graph: str | None = None
    own_subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryOutput:
    """A serialised answer: in memory (body) or in a spool file (path) that the caller deletes."""

    size: int
    body: bytes | None = None
    path: str | None = None
    more: bool = False  # a page: the query gave more solutions than the page holds

    def read(self) -> bytes:
        """The whole answer; a spool file is removed once read."""
        return b"".join(self.chunks())

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The answer in pieces, for streaming; a spool file is removed once read to its end (or given up)."""
        if self.body is not None:
            yield self.body
            return
        try:
            with open(self.path or "", "rb") as spooled:
                while chunk := spooled.read(size):
                    yield chunk
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the spool file, if any (an answer not sent: a 304, an error after the query ran)."""
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


class QuerySyntaxError(Exception):
    """The query does not parse; the message is the parser's, with line and column if known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message, line, column)
        self.message, self.line, self.column = message, line, column


class QueryEvaluationError(Exception):
    """The query parsed but could not be evaluated."""


class ResultTooLargeError(Exception):
    """The answer grew past the size limit."""


# Said instead of the engine's own words whenever a query that was not allowed to call another
# endpoint tried to reach anything: the engine's message would tell an open port from a closed
# one, or quote what an internal service answered.
REFUSED_OUTSIDE = (
    "it tries to reach something outside this store (another endpoint, through SERVICE); this server's query "
    "workers cannot reach any network, so nothing was contacted"
)


def syntax_error(message: str) -> QuerySyntaxError:
    """The error for an oxigraph parser's message (`error at LINE:COLUMN: …`, in pyoxigraph and `oxigraph serve`)."""
    match = _POSITION.match(message)
    if match:
        return QuerySyntaxError(message[match.end():], int(match.group(1)), int(match.group(2)))
    return QuerySyntaxError(message)


def _engine_error(error: Exception, job: QueryJob) -> QueryEvaluationError:
    """The error to report for an engine failure while evaluating or serialising a job's answer."""
    if isinstance(error, OSError) and not job.federated:
        return QueryEvaluationError(REFUSED_OUTSIDE)
    return QueryEvaluationError(str(error))


def _open(generation: str) -> ox.Store:
    """The worker's read-only handle on a generation of the store (see store.embedded), reopened when it changes."""
    global _store, _generation
    if _store is None or generation != _generation:
        _store = None
        _store = ox.Store.read_only(generation)
        _generation = generation
    return _store


class Spool:
    """A write target that keeps the first bytes in memory, then spills to a file, up to a cap (the job's limits).

    An XML answer is checked on its way in (NotXmlCharacterError for a character XML cannot carry) and its
    carriage returns escaped: the engine writes literals into XML as they are.
    """

    def __init__(self, job: QueryJob):
        self._job = job
        self._chunks: list[bytes] = []
        self._file = None
        self._xml = XmlOutputGuard(_XML_FORMATS[job.result_format]) if job.result_format in _XML_FORMATS else None
        self.size = 0

    def write(self, data: bytes) -> int:
        # The engine is told its whole chunk was taken, whatever the guard made of it.
        taken = len(data)
        if self._xml is not None:
            data = self._xml(data)
        self.size += len(data)
        if self.size > self._job.max_bytes:
            raise ResultTooLargeError(self._job.max_bytes)
        if self._file is None and self.size > self._job.inline_bytes:
            self._file = tempfile.NamedTemporaryFile(dir=self._job.spool_dir, prefix="result-", delete=False)
            self._file.write(b"".join(self._chunks))
            self._chunks = []
        elif self._file is None:
            self._chunks.append(bytes(data))
            return taken
        self._file.write(data)
        return taken

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def output(self, more: bool = False) -> QueryOutput:
        if self._file is None:
            return QueryOutput(size=self.size, body=b"".join(self._chunks), more=more)
        self._file.close()
        return QueryOutput(size=self.size, path=self._file.name, more=more)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            os.unlink(self._file.name)


def run(job: QueryJob, generation: str) -> QueryOutput:
    """Run a query on a generation of the store and serialise its answer."""
    store = _open(generation)
    # The store's default graph is the union of its named graphs (see store.sync_files), so
    # a query needs no union option; FROM and the protocol's dataset select stored graphs
    # only: nothing is ever dereferenced.
    options: dict[str, object] = {}
    if job.default_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
    if job.named_graphs is not None:
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    try:
        result = store.query(job.query, **options)
    except SyntaxError as error:
        raise syntax_error(str(error.msg if error.msg else error)) from None
    except (OSError, ValueError, RuntimeError) as error:
        raise _engine_error(error, job) from None
    spool = Spool(job)
    more = False
    try:
        if job.page_size is not None and isinstance(result, ox.QuerySolutions):
            more = write_page(result, job, job.page_size, spool)
        else:
            result.serialize(spool, format=_FORMATS[job.result_format])
    except (ResultTooLargeError, NotXmlCharacterError):
        spool.discard()
        raise
    except (OSError, ValueError, RuntimeError, SyntaxError) as error:
        spool.discard()
        raise _engine_error(error, job) from None
    return spool.output(more)


def write_page(solutions: ox.QuerySolutions, job: QueryJob, size: int, spool: Spool) -> bool:
    """Write the first `size` solutions in the job's format; whether the query gave more.

    pyoxigraph cannot serialise part of its solutions, nor make solutions of its own: they are
    written as TSV, which has one line per solution (it escapes line breaks in values), the extra
    line is cut, and the rest is read back and written in the answer's format, all by the engine's
    own code, in the worker; the server receives the final bytes.
    """
    whole = Spool(replace(job, inline_bytes=job.max_bytes))  # in memory, within the size limit
    solutions.serialize(whole, format=TSV.oxigraph)
    lines = (whole.output().body or b"").split(b"\n")
    header, rows = lines[0], lines[1:-1]  # the text ends with a line break
    page = b"\n".join([header, *rows[:size]]) + b"\n"
    if job.result_format == TSV.name:
        spool.write(page)
    else:
        read_back = ox.parse_query_results(page, format=TSV.oxigraph)
        if job.result_format == ROWS.name:
            spool.write(rows_document(read_back))
        else:
            read_back.serialize(spool, format=_FORMATS[job.result_format])
    return len(rows) > size


def describe(job: DescribeJob, generation: str) -> Context:
    """The neighbourhood of the job's seeds in a generation of the store."""
    store = _open(generation)
    return walk(store, job.seeds, job.inverse_predicates, job.depth, job.max_triples, job.excluded_graph, job.own_subjects)


def dump(job: DumpJob, generation: str) -> None:
    """Write the dump files of a generation of the store."""
    # Imported here: it brings rdflib, which the other jobs do not need, and a worker replaced after every deadline
    # cut must start light.
    from server.store.dumps import write_dumps

    write_dumps(_open(generation), Path(job.target), list(job.graphs))
