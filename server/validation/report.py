"""The report of a validation: its findings, as plain data that crosses process boundaries."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One result of validation: which node, which property, which rule, and where."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str
    file: str | None = None
    line: int | None = None
    within: str | None = None
    # For a converted file: the element path (IATI XML) or cell (spreadsheet) the finding is about.
    where: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Finding":
        """A finding from its JSON form (as_dict), as a server's report gives it."""
        return cls(
            data["severity"], data["focusNode"], data.get("path"), data.get("value"), data["message"], data["shape"],
            data["constraint"], data.get("file"), data.get("line"), data.get("within"), data.get("where"),
        )

    def as_dict(self) -> dict[str, object]:
        """The finding as plain JSON-ready data."""
        return {
            "severity": self.severity,
            "focusNode": self.focus,
            "path": self.path,
            "value": self.value,
            "message": self.message,
            "shape": self.shape,
            "constraint": self.constraint,
            "file": self.file,
            "line": self.line,
            "within": self.within,
            "where": self.where,
        }


@dataclass
class Report:
    """The outcome of validating some documents (plain data: it crosses process boundaries)."""

    conforms: bool
    findings: list[Finding]
    files: list[str]
    triples: int
    report_turtle: str = field(repr=False)
    # What the report says besides its findings: that the file is stored already, what it replaces.
    notices: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity == severity)
