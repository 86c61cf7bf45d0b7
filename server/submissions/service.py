"""Submissions: accept valid files into named graphs of their own, with provenance; replace, withdraw.

The store is the record of what was accepted: a submission exists exactly when its named
graph does, and the graph holds both the submitted triples and the record (written in one
transaction). The original file and its report are kept beside the store, written and
flushed to disk before the transaction, so an accepted submission always has them; files
left over by a crash before the transaction are removed at the next start.

Submissions are applied one at a time (validation included), so two that are each valid
cannot together leave the graph invalid, and the same file sent twice at once is stored once.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.files import sync_folder, write_atomic
from server.namespaces import SUBMISSION_GRAPHS
from server.problems import ProblemError
from server.rdf.syntaxes import Format, is_converted, shown_text
from server.settings import Settings
from server.store.embedded import GraphChange, GraphInfo, GraphStore
from server.store.query_worker import QueryJob
from server.submissions.records import RECORDS_QUERY, SubmissionRecord, is_submission_folder, records_from_results
from server.submissions.tokens import Principal, Role
from server.validation.report import Report
from server.validation.report_format import render_json
from server.validation.service import ValidationService

log = logging.getLogger("ilokg.submissions")
# How long a submission may wait for the ones before it before it is refused (503).
_QUEUE_SECONDS = 60.0


# The IRIs a submission alone describes that another submission refers to (at most 100 pairs: enough to name them).
_DEPENDANTS = """SELECT DISTINCT ?other ?iri WHERE {{
  GRAPH <{graph}> {{ ?iri ?described ?value }}
  FILTER(isIRI(?iri))
  GRAPH ?other {{ ?referrer ?refers ?iri }}
  FILTER(?other != <{graph}> && STRSTARTS(STR(?other), "{submissions}"))
  FILTER NOT EXISTS {{ GRAPH ?elsewhere {{ ?iri ?p ?o }} FILTER(?elsewhere != <{graph}>) }}
}} ORDER BY ?other ?iri LIMIT 100"""


# The submissions that describe (give a type to) any of the given IRIs.
_HOLDERS = """SELECT DISTINCT ?g WHERE {{
  VALUES ?s {{ {values} }}
  GRAPH ?g {{ ?s a ?type }}
  FILTER(STRSTARTS(STR(?g), "{submissions}"))
}}"""


def _read_tombstone(path: Path) -> dict[str, str]:
    """Who withdrew a submission and when. A record damaged on disk (or edited) still says it was withdrawn (410),
    rather than stopping the server's start with a traceback."""
    try:
        tombstone = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(tombstone, dict) and isinstance(tombstone.get("by"), str) and isinstance(tombstone.get("at"), str)):
            raise ValueError("not the shape the server writes")
        return tombstone
    except ValueError as error:
        log.warning("withdrawal_record_unreadable", extra={"file": str(path), "reason": str(error)[:200]})
        return {"by": "someone (its record of the withdrawal is damaged)", "at": "an unknown time"}


class SubmissionError(ProblemError):
    """A submission request that is refused: the HTTP status and a message for the person who sent it."""


class SubmissionRejectedError(Exception):
    """A submission that does not conform: nothing was stored; the report says why."""

    def __init__(self, report: Report, text: str):
        super().__init__("the submission does not conform to the shapes")
        self.report, self.text = report, text


@dataclass(frozen=True)
class Upload:
    """A submitted file: its bytes, syntax, media type and the name its sender gave it."""

    data: bytes
    syntax: Format
    media_type: str
    file_name: str | None
    own_contexts: tuple[str, ...] = ()  # where this server publishes its JSON-LD context (see parsing)


@dataclass(frozen=True)
class Accepted:
    """The outcome of a create or replace: the record, and whether it is new (False: the same file was there)."""

    record: SubmissionRecord
    created: bool
    replaced: bool = False  # an import that replaced the submission holding its records


def _now() -> str:
    # The form the store gives back (xsd:dateTime in UTC with Z), so a record reads the same after a restart.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SubmissionService:
    """Keeps submissions: validation, storage with provenance, replacement and withdrawal."""

    def __init__(self, settings: Settings, store: GraphStore, validation: ValidationService):
        self._settings = settings
        self._store = store
        self._validation = validation
        self._folder = settings.submission_files_dir
        self._records: dict[str, SubmissionRecord] = {}
        self._withdrawn: dict[str, dict[str, str]] = {}
        self._lock = asyncio.Lock()
        self._version = ""  # the data version the records were read at

    async def load(self) -> None:
        """Read the records of accepted submissions from the store and tidy the files beside it.

        Under the store's write lease: replicas of the server share the files' folder, and another replica's
        submission in progress has its files there before its record is in the store.
        """
        async with self._store.exclusive():
            await self._read_records()
            await asyncio.to_thread(self._tidy)
        self._store.adopt([self._graph_info(r) for r in self._records.values()])
        self._version = self._store.info.version
        self._store.watch(self._follow)

    async def _follow(self) -> None:
        """Read the records again after another replica changed the data (between this process's own turns)."""
        async with self._lock:
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Read the records again if the data changed since they were read (another replica wrote)."""
        if self._store.info.version != self._version:
            await self._read_records()

    async def _read_records(self) -> None:
        """Read the records from the store (again: another replica changed them), and the withdrawals beside it."""
        version = self._store.info.version
        output = await self._store.execute(
            QueryJob(RECORDS_QUERY, "json", max_bytes=self._settings.max_result_bytes),
            self._settings.query_timeout_seconds * 6,
        )
        self._records = {r.id: r for r in records_from_results(output.read())}
        self._withdrawn = await asyncio.to_thread(self._read_withdrawals)
        self._version = version

    def _read_withdrawals(self) -> dict[str, dict[str, str]]:
        self._folder.mkdir(parents=True, exist_ok=True)
        withdrawn = {}
        for tombstone in self._folder.glob("*/withdrawn.json"):
            if is_submission_folder(tombstone.parent) and tombstone.parent.name not in self._records:
                withdrawn[tombstone.parent.name] = _read_tombstone(tombstone)
        return withdrawn

    def _tidy(self) -> None:
        for folder in self._folder.iterdir():
            if not is_submission_folder(folder):
                continue  # never ours to remove (serve refuses a folder holding it; this holds for any other caller)
            record = self._records.get(folder.name)
            tombstone = folder / "withdrawn.json"
            if record is None and tombstone.exists():
                for path in folder.iterdir():
                    if path != tombstone:
                        path.unlink()
            elif record is None:
                # Files of a submission whose transaction never happened (a crash before it).
                shutil.rmtree(folder, ignore_errors=True)
            else:
                tombstone.unlink(missing_ok=True)
                for path in folder.iterdir():
                    if not path.name.startswith(record.sha256):
                        path.unlink()

    def records(self, submitter: str | None = None) -> list[SubmissionRecord]:
        """Accepted submissions, oldest first, optionally of one submitter."""
        found = sorted(self._records.values(), key=lambda r: (r.created, r.id))
        return [r for r in found if submitter is None or r.submitter == submitter]

    def get(self, submission_id: str) -> SubmissionRecord:
        """One accepted submission; 404 if there never was one, 410 if it was withdrawn."""
        record = self._records.get(submission_id)
        if record is not None:
            return record
        withdrawn = self._withdrawn.get(submission_id)
        if withdrawn is not None:
            raise SubmissionError(
                410, f"Submission {submission_id} was withdrawn by {withdrawn['by']} at {withdrawn['at']}."
            )
        raise SubmissionError(404, f"There is no submission {submission_id!r}; GET /submissions lists them.")

    def original(self, record: SubmissionRecord) -> bytes:
        """The file as it was submitted."""
        return self._stored(record, "data")

    def report(self, record: SubmissionRecord) -> dict[str, Any]:
        """The submission's validation report as JSON data (as /validate gives it)."""
        try:
            report = json.loads(self._stored(record, "report.json"))
        except ValueError as error:
            raise self._damaged(record, "report.json", error) from None
        if not isinstance(report, dict):
            raise self._damaged(record, "report.json", ValueError("not a JSON object"))
        return report

    def report_turtle(self, record: SubmissionRecord) -> str:
        """The submission's validation report as a SHACL report in Turtle."""
        try:
            return self._stored(record, "report.ttl").decode("utf-8")
        except UnicodeDecodeError as error:
            raise self._damaged(record, "report.ttl", error) from None

    def _stored(self, record: SubmissionRecord, kind: str) -> bytes:
        try:
            return self._path(record, kind).read_bytes()
        except OSError as error:
            raise self._damaged(record, kind, error) from None

    @staticmethod
    def _damaged(record: SubmissionRecord, kind: str, error: Exception) -> SubmissionError:
        """A stored file of a submission that cannot be read (damaged or removed on disk): logged for the operator,
        a 503 for the client, not a 500."""
        log.error("submission_file_unreadable", extra={"submission": record.id, "file": kind, "reason": str(error)[:200]})
        what = "file" if kind == "data" else "validation report"
        return SubmissionError(503, f"The stored {what} of submission {record.id} cannot be read now; the operator has "
                                    "been told (in the log).")

    async def create(self, principal: Principal, upload: Upload) -> Accepted:
        """Validate and store a new submission; the same file sent again by its submitter is recognised.

        A converted file (IATI) whose activities one submission of its submitter holds already replaces that
        submission: an import updates what it imported before instead of adding a second copy.
        """
        async with self._turn():
            digest = hashlib.sha256(upload.data).hexdigest()
            existing = next((r for r in self._records.values() if r.sha256 == digest), None)
            if existing is not None:
                if existing.submitter == principal.name:
                    return Accepted(existing, created=False)
                raise SubmissionError(
                    409, f"The same file was submitted already, as submission {existing.id} by {existing.submitter}.",
                    {"Location": f"/submissions/{existing.id}"},
                )
            current = await self._holding(principal, upload) if is_converted(upload.syntax) else None
            if current is not None:
                record = await self._accept(upload, digest, principal.name, current.id, current)
                return Accepted(record, created=False, replaced=True)
            record = await self._accept(upload, digest, principal.name, f"{datetime.now(UTC):%Y-%m-%d}-{secrets.token_hex(4)}")
            return Accepted(record, created=True)

    async def holders(self, upload: Upload) -> list[SubmissionRecord]:
        """The accepted submissions that hold the records (projects, funding) a converted file describes: those an
        import of it updates."""
        described = await self._validation.records_described(upload.data, upload.syntax, upload.file_name or "submission")
        if not described:
            return []
        values = " ".join(f"<{iri}>" for iri in described)
        output = await self._store.execute(
            QueryJob(_HOLDERS.format(values=values, submissions=SUBMISSION_GRAPHS), "json", max_bytes=1024 * 1024),
            self._settings.query_timeout_seconds,
        )
        rows = json.loads(output.read() or b"{}").get("results", {}).get("bindings", [])
        graphs = {row["g"]["value"] for row in rows}
        return sorted((r for r in self._records.values() if r.graph in graphs), key=lambda r: r.id)

    async def _holding(self, principal: Principal, upload: Upload) -> SubmissionRecord | None:
        """The one submission of this submitter that holds the records a converted file describes, if any;
        409 if they are spread over several submissions or held by someone else's."""
        records = await self.holders(upload)
        if not records:
            return None
        if len(records) == 1 and records[0].submitter == principal.name:
            return records[0]
        named = ", ".join(f"{r.id} by {r.submitter}" for r in records)
        raise SubmissionError(
            409, f"The records this file describes are held already by {named}. An import replaces the one submission "
            "of yours that holds them; here they are spread over several, or another submitter's: send the file "
            "in parts that match those submissions, or ask their submitters to withdraw them.",
        )

    async def replace(
        self, principal: Principal, submission_id: str, upload: Upload, if_match: list[str] | None = None
    ) -> SubmissionRecord:
        """Replace a submission's content with a new file, atomically; only its submitter may.

        if_match: the entity tags of If-Match; the replacement happens only if the submission is still one of them
        (checked in the same turn as the write, so no other change can come between).
        """
        async with self._turn():
            current = self.get(submission_id)
            if current.submitter != principal.name:
                raise SubmissionError(403, f"Submission {submission_id} is {current.submitter}'s; only they may replace it.")
            _require_version(current, if_match)
            digest = hashlib.sha256(upload.data).hexdigest()
            other = next((r for r in self._records.values() if r.sha256 == digest and r.id != submission_id), None)
            if other is not None:
                raise SubmissionError(409, f"The same file was submitted already, as submission {other.id}.")
            if digest == current.sha256:
                return current
            return await self._accept(upload, digest, principal.name, submission_id, current)

    async def withdraw(self, principal: Principal, submission_id: str, if_match: list[str] | None = None) -> None:
        """Remove a submission from the graph; its submitter or an operator may (if it is still if_match, if given)."""
        async with self._turn():
            record = self.get(submission_id)
            if record.submitter != principal.name and principal.role != Role.OPERATOR:
                raise SubmissionError(
                    403, f"Submission {submission_id} is {record.submitter}'s; only they or an operator may withdraw it."
                )
            _require_version(record, if_match)
            dependants = await self._dependants(record)
            if dependants:
                named = "; ".join(f"{d.id} by {d.submitter} ({', '.join(f'<{i}>' for i in iris[:3])}"
                                  f"{', …' if len(iris) > 3 else ''})" for d, iris in dependants)
                raise SubmissionError(
                    409, f"Submission {submission_id} cannot be withdrawn: other accepted submissions refer to what only it "
                    f"describes, and would be left pointing at nothing: {named}. Those must be withdrawn or changed first.",
                )
            tombstone = {"by": principal.name, "at": _now(), "record": json.dumps(record.as_dict())}
            folder = self._folder / record.id
            await asyncio.to_thread(write_atomic, folder / "withdrawn.json", json.dumps(tombstone).encode())
            await self._store.write(GraphChange(record.graph, None, None))
            del self._records[record.id]
            self._withdrawn[record.id] = tombstone
            await asyncio.to_thread(self._remove_files, folder, keep="withdrawn.json")

    async def _dependants(self, record: SubmissionRecord) -> list[tuple[SubmissionRecord, list[str]]]:
        """Other submissions that refer to IRIs only this one describes, with those IRIs."""
        output = await self._store.execute(
            QueryJob(_DEPENDANTS.format(graph=record.graph, submissions=SUBMISSION_GRAPHS), "json", max_bytes=1024 * 1024),
            self._settings.query_timeout_seconds,
        )
        rows = json.loads(output.read() or b"{}").get("results", {}).get("bindings", [])
        by_graph: dict[str, list[str]] = {}
        for row in rows:
            by_graph.setdefault(row["other"]["value"], []).append(row["iri"]["value"])
        return [(r, sorted(by_graph[r.graph])) for r in self._records.values() if r.graph in by_graph]

    async def _accept(
        self, upload: Upload, digest: str, submitter: str, submission_id: str, current: SubmissionRecord | None = None
    ) -> SubmissionRecord:
        replacing = current.graph if current is not None else None
        outcome = await self._validation.validate(
            upload.data, upload.syntax, upload.file_name or "submission", replacing, upload.own_contexts
        )
        if not outcome.report.conforms:
            raise SubmissionRejectedError(outcome.report, shown_text(upload.data, upload.syntax.media_type))
        record = SubmissionRecord(
            id=submission_id, submitter=submitter, created=_now(), modified=None, sha256=digest,
            media_type=upload.media_type, file_name=upload.file_name, triples=outcome.report.triples,
            warnings=outcome.report.count("Warning"),
        )
        if current is not None:
            record = current.replaced_by(record)
        await asyncio.to_thread(self._write_files, record, upload.data, outcome.report)
        content = outcome.ntriples + record.ntriples()
        await self._store.write(GraphChange(record.graph, content, self._graph_info(record)))
        self._records[record.id] = record
        if current is not None:
            await asyncio.to_thread(self._remove_files, self._folder / record.id, keep=record.sha256)
        return record

    def _write_files(self, record: SubmissionRecord, data: bytes, report: Report) -> None:
        write_atomic(self._path(record, "data"), data)
        write_atomic(self._path(record, "report.json"), render_json(report).encode("utf-8"))
        write_atomic(self._path(record, "report.ttl"), report.report_turtle.encode("utf-8"))

    @staticmethod
    def _remove_files(folder: Path, keep: str) -> None:
        for path in folder.iterdir():
            if not path.name.startswith(keep):
                path.unlink()
        sync_folder(folder)

    def _path(self, record: SubmissionRecord, kind: str) -> Path:
        return self._folder / record.id / f"{record.sha256}.{kind}"

    @staticmethod
    def _graph_info(record: SubmissionRecord) -> GraphInfo:
        record_triples = record.ntriples().count("\n")
        # The graph's hash, of which the store's data version is made: its file's and its record's (see digest).
        return GraphInfo(
            record.graph, f"submission {record.id}", record.digest, record.triples + record_triples,
            record.modified or record.created,
        )

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's turn (waited for at most _QUEUE_SECONDS), then the store's (across replicas), with the
        records as they stand."""
        try:
            await asyncio.wait_for(self._lock.acquire(), _QUEUE_SECONDS)
        except TimeoutError:
            raise SubmissionError(
                503, "Too many submissions are waiting; try again in a minute.", {"Retry-After": "60"}
            ) from None
        try:
            async with self._store.exclusive():
                await self._catch_up()
                yield
                self._version = self._store.info.version
        finally:
            self._lock.release()


def _require_version(record: SubmissionRecord, if_match: list[str] | None) -> None:
    """Refuse (412) a change to a submission that is no longer the version the client read (If-Match)."""
    if if_match is not None and "*" not in if_match and record.etag not in if_match:
        raise SubmissionError(
            412, f"Submission {record.id} has changed since you read it (it is now {record.etag}); read it again "
            "(GET its record for the current ETag) and send the change with that one in If-Match.",
        )
