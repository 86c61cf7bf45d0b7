"""Validation in the context of an installation's data, computed as the server computes it from its store.

The server validates a file against its on-disk store; the CLI (`ilo-kg validate --with-data`)
against the same sources: the project's files, each in its named graph as the server loads
them, and the accepted submissions of this installation's store if it has one. Both take the
context with the same walk (context_walk) and decide with the same plan (plan_validation)
which stored submission the file is checked without, so a file gets the same report from the
CLI as from POST /validate on a server holding the same data.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from server.exchange.inputs import KNOWN_IDENTIFIERS_QUERY, known_identifiers, refer_to_described
from server.namespaces import RESERVED_NAMESPACES, SUBMISSION_GRAPHS
from server.rdf.canonical import canonical
from server.rdf.parsing import ParsedDocument
from server.settings import Settings
from server.store.context_walk import walk
from server.store.embedded import project_sources
from server.submissions.records import RECORDS_QUERY, SubmissionRecord, records_from_results
from server.validation.engine import CONTEXT_DEPTH, Validator
from server.validation.report import Report


@dataclass(frozen=True)
class ValidationPlan:
    """How a file is checked against what is stored: the submission it is checked without, and what the
    report says about the stored copies."""

    excluded_graph: str | None
    notices: tuple[str, ...] = ()

    def annotate(self, report: Report) -> Report:
        """The report with the plan's notices."""
        report.notices.extend(self.notices)
        return report


def plan_validation(
    records: Iterable[SubmissionRecord], data: bytes, replaces: SubmissionRecord | None = None
) -> ValidationPlan:
    """What /submissions would act on: a replacement is checked without the submission it replaces; a file
    stored already (the same bytes) is checked without its stored copy, and the report says where it is.

    A stored copy of a file's own nodes never stays in its context: it would double the values the file
    gives again and supply those it lacks (context_walk leaves out what only submissions say of them).
    """
    digest = hashlib.sha256(data).hexdigest()
    same = next((r for r in records if r.sha256 == digest), None)
    if replaces is not None:
        notices = [f"Checked as the replacement of submission {replaces.id} (by {replaces.submitter}): "
                   "its stored content is left out of the context."]
        if same is not None and same.id == replaces.id:
            notices.append(f"This file is the content of submission {same.id} already: replacing it with "
                           "the same file changes nothing.")
        elif same is not None:
            notices.append(f"The same file is stored already, as submission {same.id} by {same.submitter}: "
                           f"a replacement of {replaces.id} with it would be refused.")
        return ValidationPlan(replaces.graph, tuple(notices))
    if same is not None:
        return ValidationPlan(same.graph, (
            f"This file is stored already, as submission {same.id} by {same.submitter} (accepted {same.created}); "
            "submitting it again changes nothing. The report is of the file in the graph without that copy.",
        ))
    return ValidationPlan(None)


class UnknownSubmissionError(Exception):
    """A --replaces that names no accepted submission of this installation."""


class DataValidator:
    """The project's validator with an installation's data as context: the project's files, each in its
    named graph, and the accepted submissions of the store at settings.store_dir if there is one."""

    def __init__(self, settings: Settings, validator: Validator | None = None):
        self.validator = validator or Validator.from_settings(settings)
        self._store = ox.Store()
        for iri, path in project_sources(settings).items():
            self._store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(iri))
        if settings.store_dir.exists():
            self._copy_submissions(ox.Store.read_only(str(settings.store_dir.resolve())))
        # The default graph as the server keeps it: the union of the named graphs.
        self._store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        answer = self._store.query(RECORDS_QUERY, use_default_graph_as_union=False)
        self.records = records_from_results(answer.serialize(format=ox.QueryResultsFormat.JSON) or b"{}")
        self._max_triples = settings.max_context_triples

    def _copy_submissions(self, stored: ox.Store) -> None:
        for graph in stored.named_graphs():
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(SUBMISSION_GRAPHS):
                self._store.extend(stored.quads_for_pattern(None, None, None, graph))

    def submission(self, submission_id: str) -> SubmissionRecord:
        """An accepted submission by its id; UnknownSubmissionError if there is none."""
        found = next((r for r in self.records if r.id == submission_id), None)
        if found is None:
            known = ", ".join(r.id for r in self.records[:10]) or "none"
            raise UnknownSubmissionError(f"there is no accepted submission {submission_id!r} in this installation's "
                                         f"store (accepted: {known})")
        return found

    def validate(
        self, documents: Sequence[ParsedDocument], plan: ValidationPlan | None = None,
        reserved: Sequence[str] = RESERVED_NAMESPACES,
    ) -> Report:
        """Validate documents with the triples around the nodes they mention as context, under the
        submission rules, as the server validates a submission (reserved=(): the shapes alone, for
        the server's own records)."""
        plan = plan or ValidationPlan(None)
        documents = [canonical(d)[0] for d in documents]
        context = walk(
            self._store, self.validator.seeds(documents), self.validator.inverse_predicates, CONTEXT_DEPTH,
            self._max_triples, plan.excluded_graph, self.validator.described(documents),
        )
        documents = [refer_to_described(d, context.ntriples, context.described_elsewhere) for d in documents]
        report = self.validator.validate(documents, context.ntriples, reserved, context.described_elsewhere)
        report.notices.extend(notice for d in documents for notice in d.notices)
        return plan.annotate(report)

    def known_identifiers(self) -> dict[str, str]:
        """The identifiers converted files may refer to (see server.exchange.inputs.KNOWN_IDENTIFIERS_QUERY)."""
        answer = self._store.query(KNOWN_IDENTIFIERS_QUERY)
        return known_identifiers(answer.serialize(format=ox.QueryResultsFormat.JSON) or b"{}")
