"""Validating submitted files: read in a worker, context from the store, validated in a worker.

Three steps, each with its own deadline: a worker parses the file and lists the IRIs it
mentions (the parse deadline); the store collects the triples around them (the query
deadline); a worker validates the file in that context (the validation deadline). The cost
therefore follows the size of the submission, not of the store.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from server.exchange.inputs import KNOWN_IDENTIFIERS_QUERY, known_identifiers
from server.problems import ProblemError
from server.rdf.parsing import RdfInputError, TooManyTriplesError
from server.rdf.syntaxes import BY_NAME, Format, is_converted
from server.settings import Settings
from server.store.embedded import DeadlineExceededError, GraphStore, worker_policy
from server.store.query_worker import DescribeJob, QueryJob
from server.validation import worker as validation_worker
from server.validation.engine import CONTEXT_DEPTH
from server.validation.report import Report
from server.validation.worker import Validated, ValidationJob
from server.workers import fair_share
from server.workers.fair_share import FairShare, ShareExceededError
from server.workers.pool import WorkerDiedError, WorkerPool


class SubmissionInputError(ProblemError):
    """A submitted file that cannot be validated, with the HTTP status, a message and where in the file."""

    def __init__(self, status: int, message: str, line: int | None = None, column: int | None = None):
        super().__init__(status, message, line=line, column=column)
        self.line, self.column = line, column


@dataclass(frozen=True)
class Outcome:
    """A validated submission: its report and its triples as N-Triples."""

    report: Report
    ntriples: str


class ValidationService:
    """Validates submitted RDF against the project's shapes in the context of the stored graph."""

    def __init__(self, settings: Settings, store: GraphStore):
        self._settings = settings
        self._store = store
        self._waiting = 0
        self._known: tuple[str | None, tuple[tuple[str, str], ...]] = (None, ())
        # A validation holds its share from reading the file to its report; the workers are few, so
        # none is reserved, but token holders' validations (submissions) go before anonymous ones.
        self._share = FairShare(
            settings.validation_workers, 0, settings.validations_per_client, settings.validations_per_token
        )
        self._pool = WorkerPool(
            settings.validation_workers, validation_worker.initialise,
            (str(settings.shapes_dir), str(settings.ontology_dir), settings.log_format),
            # Validation never needs the network, federation or not.
            policy=replace(worker_policy(settings), relay_port=None),
        )

    async def start(self) -> None:
        """Start the validation workers (in the event loop that will run the jobs)."""
        await self._pool.start()

    async def validate(
        self, data: bytes, syntax: Format, source: str, replacing: str | None = None, own_contexts: tuple[str, ...] = (),
    ) -> Outcome:
        """Read and validate one file; raises SubmissionInputError if it cannot be read or checked in time.

        replacing: the named graph of a submission the file is to replace, left out of the context.
        own_contexts: the URLs at which this server publishes its JSON-LD context (read from memory).
        """
        if self._waiting >= self._settings.validation_queue:
            raise SubmissionInputError(
                503, f"{self._waiting} validations are waiting already; try again in a few seconds."
            )
        self._waiting += 1
        try:
            async with self._share.slot(fair_share.current.get()):
                return await self._validate(ValidationJob(
                    data, syntax.name, source, self._settings.max_submission_triples, own_contexts
                ), replacing)
        except ShareExceededError as error:
            raise SubmissionInputError(429, error.message) from None
        finally:
            self._waiting -= 1

    async def records_described(self, data: bytes, syntax: Format, source: str) -> tuple[str, ...]:
        """The IRIs a converted file describes for itself (its activities, not what it describes in support):
        what an import matches against stored submissions. Raises SubmissionInputError if it cannot be read."""
        async with self._share.slot(fair_share.current.get()):
            job = ValidationJob(data, syntax.name, source, self._settings.max_submission_triples,
                                known=await self._known_identifiers())
            inspection = await self._run(validation_worker.inspect, (job,), self._settings.parse_timeout_seconds, "read")
        return inspection.described

    async def _known_identifiers(self) -> tuple[tuple[str, str], ...]:
        """The identifiers the graph records (for converted formats), read once per data version."""
        version = self._store.info.version
        if self._known[0] != version:
            try:
                output = await self._store.execute(
                    QueryJob(KNOWN_IDENTIFIERS_QUERY, "json", max_bytes=self._settings.max_result_bytes),
                    self._settings.query_timeout_seconds,
                )
            except (DeadlineExceededError, WorkerDiedError):
                raise SubmissionInputError(
                    503, "Reading the identifiers the graph records took too long; try again in a few seconds."
                ) from None
            self._known = (version, tuple(known_identifiers(output.read()).items()))
        return self._known[1]

    async def _validate(self, job: ValidationJob, replacing: str | None) -> Outcome:
        """The three steps, in the requester's share of the workers."""
        if is_converted(BY_NAME[job.syntax]):
            job = replace(job, known=await self._known_identifiers())
        inspection = await self._run(validation_worker.inspect, (job,), self._settings.parse_timeout_seconds, "read")
        describe = DescribeJob(
            inspection.seeds, inspection.inverse_predicates, CONTEXT_DEPTH, self._settings.max_context_triples, replacing,
            inspection.described,
        )
        try:
            context = await self._store.describe(describe, self._settings.query_timeout_seconds)
        except (DeadlineExceededError, WorkerDiedError):
            raise SubmissionInputError(
                503, "Collecting the stored context of this file took too long; try again, or split the file."
            ) from None
        validated: Validated = await self._run(
            validation_worker.validate, (job, context), self._settings.validation_timeout_seconds, "validated"
        )
        return Outcome(validated.report, validated.ntriples)

    async def _run(self, function: Callable[..., Any], args: tuple[Any, ...], timeout: float, stage: str) -> Any:
        # The stage's deadline counts from now: the requester's share holds a worker for it already.
        try:
            async with asyncio.timeout(timeout):
                return await self._pool.run(function, *args)
        except TooManyTriplesError as error:
            raise SubmissionInputError(413, str(error)) from None
        except RdfInputError as error:
            raise SubmissionInputError(400, str(error), error.line, error.column) from None
        except TimeoutError:
            raise SubmissionInputError(
                422, f"The file could not be {stage} within {timeout:g} s; split it into smaller files."
            ) from None
        except MemoryError:
            cap = self._settings.worker_memory_bytes // (1024 * 1024)
            raise SubmissionInputError(
                422, f"The file could not be {stage} within the memory a validation may use ({cap} MiB); "
                "split it into smaller files."
            ) from None
        except WorkerDiedError:
            # A parser that crashes its process (native code meeting pathological input).
            raise SubmissionInputError(
                400, f"The file could not be {stage}: the {'parser' if stage == 'read' else 'validator'} stopped on it. "
                "Check that it is well-formed and not nested hundreds of levels deep."
            ) from None

    async def close(self) -> None:
        """Stop the workers."""
        await self._pool.close()
