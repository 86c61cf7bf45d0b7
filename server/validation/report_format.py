"""Validation reports rendered for people (text) and programs (JSON, SHACL Turtle)."""

import json
from collections.abc import Callable
from itertools import groupby
from typing import Any

from server.validation.report import Finding, Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(report: Report) -> str:
    """A report grouped by focus node, each with its file and line, then a summary line."""
    lines: list[str] = []

    def place(finding: Finding) -> tuple[str, int, str]:
        return (finding.file or "", finding.line or 0, finding.focus)

    for (file, line, focus), group in groupby(report.findings, key=place):
        findings = list(group)
        where = f"{file}:{line}" if file and line else (file or "(not in the input)")
        within = f" (in the description of {findings[0].within})" if findings[0].within else ""
        lines.append(f"{where}: {focus}{within}")
        for finding in findings:
            detail = finding.path or "(node)"
            if finding.value is not None:
                detail += f" = {finding.value}"
            lines.append(f"  {finding.severity}: {finding.message}")
            lines.append(f"    at {detail}  [{finding.shape}, {finding.constraint}]")
            if finding.where:
                lines.append(f"    in {finding.where}")
    lines.extend(f"note: {notice}" for notice in report.notices)
    violations, warnings = report.count("Violation"), report.count("Warning")
    verdict = "conforms" if report.conforms else "does not conform"
    lines.append(
        f"{verdict}: {_plural(violations, 'violation')}, {_plural(warnings, 'warning')} "
        f"in {_plural(len(report.files), 'file')} ({_plural(report.triples, 'triple')})"
    )
    return "\n".join(lines) + "\n"


def report_document(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: conforms, counts, every finding, and the notices."""
    return {
        "conforms": report.conforms,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "files": report.files,
        "triples": report.triples,
        "results": [f.as_dict() for f in report.findings],
        "notices": report.notices,
    }


def render_json(report: Report) -> str:
    """The report as JSON (see report_document)."""
    return json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"


def render_turtle(report: Report) -> str:
    """The report as a SHACL sh:ValidationReport in Turtle."""
    return report.report_turtle


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "turtle": render_turtle,
}
