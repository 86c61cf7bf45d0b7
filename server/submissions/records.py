"""A submission's record: who sent what, when, in which form, and how it validated.

The record is kept in RDF inside the submission's own named graph (so the content and its
provenance are written, and removed, in one transaction), and read back from the store when
the server starts. Its shape is ilosh:SubmissionShape.
"""

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.namespaces import (
    DCTERMS,
    ILOP,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    SUBMISSION,
    SUBMISSION_GRAPHS,
    SUBMITTER,
    XSD,
)

# A submission's id: the day it was accepted and eight hex digits (see SubmissionService._accept).
SUBMISSION_ID = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9a-f]{8}")


def foreign_entries(folder: Path) -> list[str]:
    """The names in a folder of submitted files that are not a submission's folder (none if it does not exist):
    the server tidies that folder at start, so it must hold nothing else."""
    if not folder.is_dir():
        return []
    # A file system's own entries (lost+found at a volume's root, NFS's .nfs… files) are left alone, not refused.
    return sorted(p.name for p in folder.iterdir()
                  if not (is_submission_folder(p) or p.name.startswith(".") or p.name == "lost+found"))


def is_submission_folder(path: Path) -> bool:
    """Whether path is the folder of a submission's files (a folder named by a submission's id)."""
    return bool(SUBMISSION_ID.fullmatch(path.name)) and path.is_dir() and not path.is_symlink()


@dataclass(frozen=True)
class SubmissionRecord:
    """What is known of one accepted submission."""

    id: str
    submitter: str
    created: str
    modified: str | None
    sha256: str
    media_type: str
    file_name: str | None
    triples: int
    warnings: int

    @property
    def digest(self) -> str:
        """A hash of this version of the submission as stored: its file's content and its whole record. (Its file's
        hash alone, or with the time of the change, is the same for a file put back as it was within a second.)"""
        return hashlib.sha256(f"{self.sha256}\x00{self.ntriples()}".encode()).hexdigest()

    @property
    def etag(self) -> str:
        """A strong entity tag of this version of the submission."""
        return '"' + self.digest[:32] + '"'

    @property
    def iri(self) -> str:
        """The IRI of the submission (the subject of its record)."""
        return SUBMISSION + self.id

    @property
    def graph(self) -> str:
        """The named graph that holds the submission's triples and this record."""
        return SUBMISSION_GRAPHS + self.id

    def replaced_by(self, newer: "SubmissionRecord") -> "SubmissionRecord":
        """This submission with the content of a newer one: same id and first submission time."""
        return replace(newer, id=self.id, created=self.created, modified=newer.created)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data for the API, with the addresses of its parts."""
        path = f"/submissions/{self.id}"
        return {
            "id": self.id,
            "iri": self.iri,
            "graph": self.graph,
            "submitter": self.submitter,
            "created": self.created,
            "modified": self.modified,
            "sha256": self.sha256,
            "mediaType": self.media_type,
            "fileName": self.file_name,
            "triples": self.triples,
            "warnings": self.warnings,
            "links": {"self": path, "report": f"{path}/report", "content": f"{path}/content", "original": f"{path}/original"},
        }

    def ntriples(self) -> str:
        """The record as N-Triples, to be stored with the submission's content."""
        subject, agent = ox.NamedNode(self.iri), ox.NamedNode(SUBMITTER + self.submitter)
        string = ox.NamedNode(XSD + "string")

        def literal(value: object, datatype: str = "string") -> ox.Literal:
            return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))

        triples = [
            ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(str(ILOP.Submission))),
            ox.Triple(subject, ox.NamedNode(DCTERMS + "identifier"), ox.Literal(self.id, datatype=string)),
            ox.Triple(subject, ox.NamedNode(PROV + "wasAttributedTo"), agent),
            ox.Triple(subject, ox.NamedNode(DCTERMS + "created"), literal(self.created, "dateTime")),
            ox.Triple(subject, ox.NamedNode(str(ILOP.contentSha256)), literal(self.sha256)),
            ox.Triple(subject, ox.NamedNode(DCTERMS + "format"), literal(self.media_type)),
            ox.Triple(subject, ox.NamedNode(str(ILOP.tripleCount)), literal(self.triples, "integer")),
            ox.Triple(subject, ox.NamedNode(str(ILOP.warningCount)), literal(self.warnings, "integer")),
            ox.Triple(agent, ox.NamedNode(RDF_TYPE), ox.NamedNode(PROV + "Agent")),
            ox.Triple(agent, ox.NamedNode(RDFS_LABEL), literal(self.submitter)),
        ]
        if self.modified:
            triples.append(ox.Triple(subject, ox.NamedNode(DCTERMS + "modified"), literal(self.modified, "dateTime")))
        if self.file_name:
            triples.append(ox.Triple(subject, ox.NamedNode(str(ILOP.fileName)), literal(self.file_name)))
        return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


# The record of each submission graph; the record must be the one named after its graph, so
# that nothing else in the graph can pass for it.
RECORDS_QUERY = f"""
PREFIX ilop: <{ILOP}>
PREFIX dcterms: <{DCTERMS}>
PREFIX prov: <{PROV}>
SELECT ?id ?agent ?created ?modified ?sha256 ?format ?file ?triples ?warnings WHERE {{
  GRAPH ?g {{
    ?s a ilop:Submission ; dcterms:identifier ?id ; prov:wasAttributedTo ?agent ; dcterms:created ?created ;
       ilop:contentSha256 ?sha256 ; dcterms:format ?format ; ilop:tripleCount ?triples ; ilop:warningCount ?warnings .
    OPTIONAL {{ ?s dcterms:modified ?modified }}
    OPTIONAL {{ ?s ilop:fileName ?file }}
  }}
  FILTER(STRSTARTS(STR(?g), "{SUBMISSION_GRAPHS}") && ?g = IRI(CONCAT("{SUBMISSION_GRAPHS}", ?id))
         && ?s = IRI(CONCAT("{SUBMISSION}", ?id)))
}} ORDER BY ?id
"""


def records_from_results(body: bytes) -> list[SubmissionRecord]:
    """Records from the SPARQL JSON results of RECORDS_QUERY."""
    records = []
    for row in json.loads(body)["results"]["bindings"]:
        value = {name: cell["value"] for name, cell in row.items()}
        records.append(
            SubmissionRecord(
                id=value["id"],
                submitter=value["agent"].removeprefix(SUBMITTER),
                created=value["created"],
                modified=value.get("modified"),
                sha256=value["sha256"],
                media_type=value["format"],
                file_name=value.get("file"),
                triples=int(value["triples"]),
                warnings=int(value["warnings"]),
            )
        )
    return records
