"""What runs inside a validation worker process: parse a submission, validate it in its context.

Submitted files are read and validated in worker processes, never in the server process:
a deadline can then stop a pathological input for real (the worker is killed and replaced),
and an input that crashes a parser takes down one worker, not the server. Each worker loads
the shapes and the ontology once, when it starts.
"""

from dataclasses import dataclass
from pathlib import Path

from server.exchange.inputs import read_input, refer_to_described
from server.logs import configure
from server.namespaces import RESERVED_NAMESPACES
from server.rdf.canonical import canonical
from server.rdf.parsing import ParsedDocument
from server.rdf.project_graphs import load_folder
from server.rdf.syntaxes import BY_NAME
from server.store.context_walk import Context
from server.validation import pyshacl_speedups
from server.validation.engine import Validator
from server.validation.report import Report

_validator: Validator | None = None
# The file the last inspect read, for the validate of the same job that follows it on this worker: read once, not
# twice (3 s of 11 for a file of 100,000 triples). Taken by that validate, which changes it; one at most is kept.
_inspected: tuple["ValidationJob", ParsedDocument] | None = None


@dataclass(frozen=True)
class ValidationJob:
    """One submitted file: its bytes, syntax (a name from rdf_formats) and the name to report it under."""

    data: bytes
    syntax: str
    source: str
    max_triples: int
    own_contexts: tuple[str, ...] = ()  # where the server publishes its JSON-LD context (see parsing)
    known: tuple[tuple[str, str], ...] = ()  # identifiers the graph records, for converted formats (see inputs)


@dataclass(frozen=True)
class Inspection:
    """What the first look at a file found: the IRIs to fetch context for, those it describes, and its size."""

    seeds: tuple[str, ...]
    inverse_predicates: tuple[str, ...]
    triples: int
    described: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validated:
    """A validated file: its report, and its triples as N-Triples (to store, if it is accepted)."""

    report: Report
    ntriples: str


def initialise(shapes_dir: str, ontology_dir: str, log_format: str | None = None) -> None:
    """Worker start (once the pool has contained it): log as the server does (a spawned process has no handler, and
    Python's last resort writes bare text into the server's JSON lines), then load the shapes and the ontology, so
    that the first validation is as fast as the rest. log_format None (a test in its own process): logging is left
    as it is."""
    if log_format is not None:
        configure(log_format)
    pyshacl_speedups.install()
    global _validator
    _validator = Validator(load_folder(Path(shapes_dir)), load_folder(Path(ontology_dir)))


def _parse(job: ValidationJob) -> ParsedDocument:
    return read_input(job.data, BY_NAME[job.syntax], job.source, job.max_triples, job.own_contexts, dict(job.known))


def _require_validator() -> Validator:
    if _validator is None:
        raise RuntimeError("the validation worker was not initialised")
    return _validator


def inspect(job: ValidationJob) -> Inspection:
    """Parse the file (raising RdfInputError if it cannot be read) and list where its context lies."""
    global _inspected
    validator = _require_validator()
    _inspected = None
    document = _parse(job)
    inspection = Inspection(
        tuple(validator.seeds([document])), validator.inverse_predicates, len(document.graph),
        tuple(validator.described([document])),
    )
    _inspected = (job, document)
    return inspection


def validate(job: ValidationJob, context: Context) -> Validated:
    """Validate the file in its context (the stored triples around it; see context_walk).

    A submission may not describe the graph's own records, vocabulary, shapes or codes.
    """
    global _inspected
    validator = _require_validator()
    inspected, _inspected = _inspected, None
    read = inspected[1] if inspected is not None and inspected[0] == job else _parse(job)
    # Literals in the store's canonical form, as the context has them. The N-Triples are
    # written by pyoxigraph, whose own SPARQL parser reads them back when they are stored.
    document, ntriples = canonical(refer_to_described(read, context.ntriples, context.described_elsewhere))
    report = validator.validate([document], context.ntriples, RESERVED_NAMESPACES, context.described_elsewhere)
    report.notices.extend(document.notices)
    return Validated(report, ntriples.decode("utf-8"))
