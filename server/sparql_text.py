"""What the server needs to know about a SPARQL text before running it, read by a lexer.

The lexer skips comments, strings and IRIs exactly as a SPARQL parser does, so a keyword
inside a string or a comment is never mistaken for one, and a keyword outside them is never
missed. It finds the query form, whether the text is an update, the SERVICE targets, and
whether the result can vary between runs on the same data (NOW, RAND, UUID…).
"""

import re
from dataclasses import dataclass, field

# One token at a time, in the order a SPARQL lexer tries them (SPARQL 1.1 grammar, section 19.8).
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%\\-]|\.(?=[\w:%\\-]))*)
    | (?P<word>[^\W\d][\w-]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_VOLATILE = {"NOW", "RAND", "UUID", "STRUUID", "BNODE"}


@dataclass
class SparqlText:
    """What a SPARQL text says about itself, before it is run."""

    form: str | None = None
    is_update: bool = False
    service_targets: list[str] = field(default_factory=list)
    # The graphs named by FROM and FROM NAMED ('' where a prefixed name cannot be read).
    dataset_iris: list[str] = field(default_factory=list)
    # Where each SERVICE target is written in the text (start, end), in the same order.
    service_spans: list[tuple[int, int]] = field(default_factory=list)
    volatile: bool = False
    # Every keyword (upper case) and variable name (without ? or $) outside comments and strings.
    keywords: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    # The offset just after the first `{`: in a SELECT query, the opening of its WHERE clause.
    where_start: int | None = None


def analyse(text: str) -> SparqlText:
    """Read a SPARQL query or update text for its form, SERVICE targets and volatility."""
    result = SparqlText()
    prefixes: dict[str, str] = {}
    matches = [m for m in _TOKEN.finditer(text) if m.lastgroup not in ("ws", "comment")]
    tokens = [(m.lastgroup, m.group()) for m in matches]
    for index, (kind, value) in enumerate(tokens):
        upper = value.upper() if kind == "word" else ""
        if upper:
            result.keywords.add(upper)
        elif kind == "var":
            result.variables.add(value[1:])
        elif value == "{" and result.where_start is None:
            result.where_start = matches[index].end()
        if upper == "PREFIX" and index + 2 < len(tokens) and tokens[index + 1][0] == "pname":
            prefixes[tokens[index + 1][1].rstrip(":")] = tokens[index + 2][1].strip("<>")
        elif result.form is None and not result.is_update and upper in QUERY_FORMS:
            result.form = upper
        elif result.form is None and not result.is_update and upper in UPDATE_KEYWORDS:
            result.is_update = True
        elif upper == "SERVICE":
            target, offset = _service_target(tokens[index + 1 :], prefixes)
            result.service_targets.append(target)
            at = min(index + 1 + offset, len(matches) - 1)
            result.service_spans.append((matches[at].start(), matches[at].end()))
        elif upper == "FROM":
            target, _ = _named_target(tokens[index + 1 :], prefixes, "NAMED")
            result.dataset_iris.append(target)
        elif upper in _VOLATILE:
            result.volatile = True
    return result


def _service_target(rest: list[tuple[str | None, str]], prefixes: dict[str, str]) -> tuple[str, int]:
    """The endpoint a SERVICE calls ('' when it is a variable or cannot be read), and its token's offset."""
    return _named_target(rest, prefixes, "SILENT")


def _named_target(rest: list[tuple[str | None, str]], prefixes: dict[str, str], modifier: str) -> tuple[str, int]:
    """The IRI after a keyword and its optional modifier ('' if not an IRI), and its token's offset."""
    offset = 0
    if rest and rest[0][0] == "word" and rest[0][1].upper() == modifier:
        offset = 1
    if len(rest) <= offset:
        return "", offset
    kind, value = rest[offset]
    if kind == "iri":
        return value[1:-1], offset
    if kind == "pname":
        prefix, _, local = value.partition(":")
        return (prefixes.get(prefix, "") + local if prefix in prefixes else ""), offset
    return "", offset


def replace_services(text: str, analysed: SparqlText, replacement: dict[str, str]) -> str:
    """The text with each SERVICE target named in replacement written as its replacement IRI."""
    for target, (start, end) in sorted(zip(analysed.service_targets, analysed.service_spans, strict=True),
                                       key=lambda ts: ts[1][0], reverse=True):
        if target in replacement:
            text = text[:start] + f"<{replacement[target]}>" + text[end:]
    return text
