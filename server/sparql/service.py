"""The SPARQL query service: checks a request, picks its answer format, runs it, caches it.

It sits between the HTTP router and the store. Everything here is independent of HTTP
except the status codes its errors carry, which the router sends as they are.
"""

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, replace

import pyoxigraph as ox

from server.formats.registry import SPARQL_JSON, Format, answer_offer
from server.namespaces import WELL_KNOWN_PREFIXES
from server.problems import ProblemError
from server.settings import Settings
from server.sparql.answer_cache import ResultCache
from server.sparql.federation import FederationRelay
from server.sparql.text import (
    MAX_NESTING,
    SparqlText,
    analyse,
    ask_as_select,
    outside_graphs_emptied,
    position,
    without_dataset_clauses,
)
from server.store.embedded import DeadlineExceededError, GraphStore
from server.store.query_worker import QueryEvaluationError, QueryJob, QueryOutput, QuerySyntaxError, ResultTooLargeError
from server.workers.fair_share import ShareExceededError
from server.workers.pool import WorkerDiedError

_INLINE_BYTES = 1024 * 1024
# A timeout as a person writes one: digits (ASCII), perhaps with a fraction.
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


class SparqlError(ProblemError):
    """A request the service refuses, with the HTTP status and a message for the person who sent it."""


class QueryDeadlineError(SparqlError):
    """A query stopped at its deadline: 422, the query asks for more work than the endpoint gives one query.

    Not a 5xx: the server is well, and the same query would be stopped again; the client has
    to change it.
    """

    def __init__(self, timeout: float, again: bool = False):
        when = " (on an earlier request for the same query and data; it was not run again)" if again else ""
        super().__init__(
            422, f"The query was stopped at its deadline of {timeout:g} s{when}; simplify it, add a LIMIT, or ask for less."
        )


@dataclass(frozen=True)
class QueryRequest:
    """A query as the protocol delivers it."""

    query: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    accept: str | None = None
    format: str | None = None
    timeout: str | None = None


@dataclass(frozen=True)
class Plan:
    """A checked request: what to run, how to answer, and the answer's validator (ETag)."""

    job: QueryJob
    result_format: Format
    timeout: float
    etag: str | None


@dataclass(frozen=True)
class Answer:
    """A query's answer: its format and bytes (or a spool file to stream and delete)."""

    result_format: Format
    output: QueryOutput
    cached: bool


_CHARACTER_CLASS = re.compile(r'\[[^\]"]*\](?:,\s*\[[^\]"]*\])*')


def _undeclared_message(query: str, undeclared: tuple[str, int] | None, before: tuple[int, int] | None = None) -> str | None:
    """One sentence naming the first prefix the query uses and never declares (SparqlText.undeclared), if it is at or
    before a place."""
    if undeclared is None:
        return None
    prefix, offset = undeclared
    line, column = position(query, offset)
    if before is not None and (line, column) > before:
        return None
    known = WELL_KNOWN_PREFIXES.get(prefix[:-1])
    declaration = f"PREFIX {prefix} <{known}>" if known else f"PREFIX {prefix} <…>"
    return f"Unknown prefix `{prefix}` at line {line}, column {column} — declare it with {declaration}."


def _syntax_message(query: str, error: QuerySyntaxError) -> str:
    """The engine's syntax error, or, when the query uses a prefix it never declares at or before the place
    the engine stopped, one sentence saying so (the engine lists the characters it expected instead)."""
    # (Virtuoso names the line of a syntax error, not the column.)
    before = None if error.line is None else (error.line, error.column or 1 << 30)
    undeclared = _undeclared_message(query, analyse(query).undeclared, before)
    if undeclared is not None:
        return undeclared
    where = "" if error.line is None else f" at line {error.line}" + (f", column {error.column}" if error.column else "")
    # The engine spells out the Unicode ranges of name characters it would have taken; one phrase says it.
    message = _CHARACTER_CLASS.sub("a name character", error.message)
    return f"Syntax error in the query{where}: {message}"


def _check_iri(parameter: str, value: str) -> None:
    try:
        ox.NamedNode(value)
    except ValueError as error:
        raise SparqlError(400, f"{parameter} must be an absolute IRI, not {value!r} ({error}).") from None


def _check_stored(clause: str, graph: str, stored: set[str]) -> None:
    if graph not in stored:
        raise SparqlError(
            400, f"{clause} <{graph}> names no graph of this store. This endpoint reads only its own named graphs "
            "(listed in its service description, GET /sparql) and never fetches one from elsewhere.",
        )


class SparqlService:
    """Answers SPARQL queries safely: read-only, no outbound calls, hard deadlines, size limits."""

    def __init__(
        self, store: GraphStore, settings: Settings, spool_dir: str | None = None, relay: FederationRelay | None = None
    ):
        self._store = store
        self._settings = settings
        self._relay = relay
        self._spool_dir = spool_dir
        self._cache: ResultCache[QueryOutput] = ResultCache(
            settings.cache_entries, settings.cache_entry_bytes, settings.cache_total_bytes, size=lambda output: output.size
        )
        # Queries that ran into the full deadline on this version of the data: they would
        # again, so the same request is refused at once instead of taking a worker for the
        # whole deadline each time it is repeated (a heavy aggregate a page asks for, say).
        self._too_slow: OrderedDict[str, None] = OrderedDict()

    def plan(self, request: QueryRequest) -> Plan:
        """Check a request and decide how to answer it; raises SparqlError if it is refused."""
        size = len(request.query.encode("utf-8"))
        if size > self._settings.max_query_bytes:
            limit = self._settings.max_query_bytes
            raise SparqlError(413, f"The query is {size} bytes long; this endpoint accepts at most {limit}.")
        if not request.query.strip():
            raise SparqlError(400, "The query is empty.")
        text = analyse(request.query, extensions=self._settings.store_url is not None)
        if text.nesting > MAX_NESTING:
            line, column = position(request.query, text.nesting_at)
            raise SparqlError(
                400, f"The query nests {text.nesting} levels deep at line {line}, column {column}; this endpoint accepts "
                f"at most {MAX_NESTING} levels of brackets, braces, parentheses and negations (!) inside "
                "each other. Flatten the query.",
            )
        if self._settings.store_url is not None:
            # Only standard SPARQL reaches an external engine: its own extensions (Virtuoso's pragmas, its bif: and
            # sql: functions, which read files and run SQL) are refused here, whatever its permissions allow.
            if text.extension is not None:
                word, offset = text.extension
                line, column = position(request.query, offset)
                raise SparqlError(
                    400, f"`{word}` at line {line}, column {column} is not standard SPARQL 1.1; this endpoint accepts "
                    "standard SPARQL only (no engine's own keywords or functions).",
                )
            # Some engines declare prefixes of their own (Virtuoso: foaf:, dc:, skos:, …): a query that relies on them
            # is refused here as the embedded store refuses it, so that a query accepted here runs on any SPARQL store.
            undeclared = _undeclared_message(request.query, text.undeclared)
            if undeclared is not None:
                raise SparqlError(400, undeclared)
        if text.is_update:
            raise SparqlError(
                400, "This endpoint answers queries only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, …) is not accepted."
            )
        refused = [t or "(a variable)" for t in text.service_targets if t not in self._settings.service_allowlist]
        if refused:
            allowed = ", ".join(f"<{e}>" for e in self._settings.service_allowlist) or "none"
            raise SparqlError(
                400, f"SERVICE {', '.join(f'<{t}>' if t != '(a variable)' else t for t in refused)} is not allowed: "
                f"this endpoint calls no other endpoint unless its operator allows it (allowed: {allowed}).",
            )
        if request.default_graphs or request.named_graphs or text.dataset_iris:
            stored = {g.iri for g in self._store.info.graphs}
            for name, graphs in (("default-graph-uri", request.default_graphs), ("named-graph-uri", request.named_graphs)):
                for graph in graphs or ():
                    _check_iri(name, graph)
                    _check_stored(name, graph, stored)
            for graph in text.dataset_iris:
                _check_stored("FROM", graph, stored)
        query = request.query
        if (request.default_graphs or request.named_graphs) and text.dataset_iris:
            # The protocol's dataset replaces the query's (SPARQL 1.1 Protocol, 2.1.4): no engine is sent the query's
            # FROM clauses, so none can let them win (Virtuoso 7.2 does). Read again: the rewrites below use offsets.
            query = without_dataset_clauses(query, text)
            text = analyse(query)
        if self._settings.store_url is not None and text.graph_targets:
            emptied = outside_graphs_emptied(query, text, self._named_graphs(request, text))
            if emptied != query:
                query, text = emptied, analyse(emptied)
        result_format = answer_offer(text.form).negotiate(request.format, request.accept)
        timeout = self._timeout(request.timeout)
        if text.service_targets and self._relay is not None:
            query = self._relay.rewrite(query, text)
        ask_as = self._settings.store_url is not None and text.form == "ASK"
        if ask_as:
            query = ask_as_select(query, text)
        job = QueryJob(
            query=query,
            result_format=result_format.name,
            default_graphs=request.default_graphs,
            named_graphs=request.named_graphs,
            max_bytes=self._settings.max_result_bytes,
            inline_bytes=_INLINE_BYTES,
            spool_dir=self._spool_dir,
            federated=bool(text.service_targets) and self._relay is not None,
            dataset_in_query=bool(text.dataset_iris),
            ask_as_select=ask_as,
        )
        # Answers change only when the data does, except for queries that call NOW(), RAND()…
        # or another endpoint (whose data may change at any time).
        etag = None if text.volatile or text.service_targets else f'"{self._key(job)[:32]}"'
        return Plan(job, result_format, timeout, etag)

    def _named_graphs(self, request: QueryRequest, text: SparqlText) -> set[str]:
        """The named graphs of a query's dataset: the protocol's, else its FROM NAMED's, else every graph served."""
        if request.default_graphs or request.named_graphs:
            return set(request.named_graphs or ())
        if text.dataset_iris:
            return {iri for iri, named in zip(text.dataset_iris, text.dataset_named, strict=True) if named}
        return {g.iri for g in self._store.info.graphs}

    async def execute(self, plan: Plan) -> Answer:
        """Run a planned query (or take its answer from the cache)."""
        key = self._key(plan.job)
        if plan.etag is not None:
            kept = self._cache.get(key)
            if kept is not None:
                return Answer(plan.result_format, kept, cached=True)
        full_deadline = plan.timeout >= self._settings.query_timeout_seconds
        if full_deadline and key in self._too_slow:
            raise QueryDeadlineError(plan.timeout, again=True)
        try:
            output = await self._store.execute(plan.job, plan.timeout)
        except QuerySyntaxError as error:
            raise SparqlError(400, _syntax_message(plan.job.query, error)) from None
        except QueryEvaluationError as error:
            message = self._relay.restore(str(error)) if self._relay is not None else str(error)
            raise SparqlError(400, f"The query could not be evaluated: {message}") from None
        except ResultTooLargeError:
            raise SparqlError(
                422, f"The answer would exceed {self._settings.max_result_bytes} bytes; narrow the query or add a LIMIT."
            ) from None
        except (WorkerDiedError, MemoryError):
            raise SparqlError(422, self._worker_lost()) from None
        except ShareExceededError as error:
            raise SparqlError(429, error.message) from None
        except DeadlineExceededError as error:
            # Remembered only if it ran for (nearly) its whole deadline: time spent waiting for a
            # worker says nothing about the query, and a busy server must not teach it to refuse one.
            if full_deadline and plan.etag is not None and error.ran >= 0.95 * plan.timeout:
                self._too_slow[key] = None
                while len(self._too_slow) > 1024:
                    self._too_slow.popitem(last=False)
            raise QueryDeadlineError(plan.timeout) from None
        if plan.etag is not None:
            output = self._keepable(output)
            if output.body is not None:
                self._cache.put(key, output)
        return Answer(plan.result_format, output, cached=False)

    def _keepable(self, output: QueryOutput) -> QueryOutput:
        """An answer the worker spooled to a file (over 1 MB) but small enough for the cache, read into memory so that
        the cache can keep it (the explorer's answers at thousands of projects are of that size)."""
        if output.body is None and output.path is not None and 0 < self._settings.cache_entries and (
                output.size <= self._settings.cache_entry_bytes):
            return replace(output, body=output.read(), path=None)
        return output

    async def select(self, text: str) -> dict:
        """Run one of the server's own queries and give its answer as SPARQL JSON results.

        Same path as a client's query: deadline, size limit and answer cache.
        """
        return json.loads(await self._body(QueryRequest(query=text, format="json")))

    async def page(self, text: str, page_format: Format, size: int) -> QueryOutput:
        """Run one of the server's own SELECT queries for a page of `size` solutions, in `page_format` (a
        solution format, or rows); the query asks for size + 1, and the output says whether there were more.
        """
        plan = self.plan(QueryRequest(query=text, format=SPARQL_JSON.name))
        job = replace(plan.job, result_format=page_format.name, page_size=size)
        return (await self.execute(replace(plan, job=job, result_format=page_format))).output

    async def construct(self, text: str) -> bytes:
        """Run one of the server's own CONSTRUCT queries; its triples as N-Triples."""
        return await self._body(QueryRequest(query=text, format="ntriples"))

    async def _body(self, request: QueryRequest) -> bytes:
        answer = await self.execute(self.plan(request))
        return answer.output.read()

    def _worker_lost(self) -> str:
        # The engine aborts its process when an allocation fails: past the memory cap, that is what happens.
        cap = self._settings.worker_memory_bytes
        limit = f" (at most {cap // (1024 * 1024)} MiB)" if cap else ""
        return (
            f"The query was stopped: it needed more memory than one query may use{limit}, or the engine could not "
            "evaluate it. Narrow it, add a LIMIT, or avoid large ORDER BY, GROUP BY or DISTINCT over many rows."
        )

    def _timeout(self, requested: str | None) -> float:
        limit = self._settings.query_timeout_seconds
        if requested is None or requested == "":
            return limit
        if not _SECONDS.fullmatch(requested.strip()):
            # (float() would also take "inf", "1e3", "1_000" and any script's digits)
            raise SparqlError(400, f"timeout must be a number of seconds, not {requested[:40]!r}.")
        seconds = float(requested)
        if not seconds > 0:
            raise SparqlError(400, "timeout must be a positive number of seconds.")
        return min(seconds, limit)

    def _key(self, job: QueryJob) -> str:
        parts = (
            self._store.info.version, job.query, repr(job.default_graphs), repr(job.named_graphs), job.result_format,
            repr(job.page_size),
        )
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
