"""What the server needs to know about a SPARQL text before running it, read by a lexer.

The lexer follows the terminals of the SPARQL 1.1 grammar (section 19.8) exactly, including
every escape: UCHAR (`\\u0041`, `\\U00000041`) in IRIs and strings, ECHAR in strings, PLX
(`%41`, `\\#`) in prefixed names, and comments that end at a carriage return as well as at a
line feed. So a keyword inside a string, an IRI or a comment is never mistaken for one, and a
keyword outside them is never missed. It finds the query form, whether the text is an update,
the SERVICE and FROM targets, whether the result can vary between runs on the same data (NOW,
RAND, UUID…), and how deeply the text nests.

Where the grammar itself is ambiguous for a lexer, it reads the text the way that finds more:
`SERVICE:x` is a prefixed name to a lexer, but the engine's parser reads the keyword SERVICE
and the name `:x` (and calls it), so a prefixed name whose prefix is one of the keywords that
name an endpoint or a graph is read both ways (see `_SPLIT`).

This check gives early, clear 400s. It is not the only guard: the workers that run queries
cannot reach the network whatever the text says (see containment).
"""

import re
from dataclasses import dataclass, field

# Character classes of the grammar's terminals (SPARQL 1.1 Query, 19.8, productions 164-173).
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_UCHAR = r"(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_VARNAME = f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
# A string's escapes: ECHAR, or UCHAR, which the engine reads inside strings (an escaped quote
# does not end one). Any other character after a backslash makes the text invalid, so reading
# `\\.` as one unit agrees with the engine on every text it accepts.
_ESCAPE = r"\\."

# One token at a time, in the order a SPARQL lexer tries them. WS is only these four characters.
_TOKEN = re.compile(
    rf"""
      (?P<ws>[\x20\t\r\n]+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
    | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|{_ESCAPE}))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ESCAPE}))*\"\"\"
                |'(?:[^'\\\n\r]|{_ESCAPE})*'|"(?:[^"\\\n\r]|{_ESCAPE})*")
    | (?P<var>[?$]{_VARNAME})
    | (?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
    | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UCHAR_IN_TEXT = re.compile(_UCHAR)
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_NOT_LINE_BREAK = re.compile(r"[^\r\n]")

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_VOLATILE = {"NOW", "RAND", "UUID", "STRUUID", "BNODE"}
# Keywords the engine reads even when a `:` follows at once (`SERVICE:x`, `FROM:g`, `PREFIX:<…>`).
_SPLIT = {"SERVICE", "SILENT", "FROM", "NAMED", "PREFIX"}
_OPENING, _CLOSING = "([{", ")]}"
# Deeper nesting crashes the engine's parser (5,000 levels of `(` or `{`) or makes it backtrack
# for minutes (300 levels of `[` or of a collection in a triple pattern); see RELIABILITY.md.
MAX_NESTING = 32


@dataclass
class SparqlText:
    """What a SPARQL text says about itself, before it is run."""

    form: str | None = None
    # Where the form's keyword is written (start, end).
    form_span: tuple[int, int] | None = None
    # Where a VALUES clause after the query's WHERE clause starts (outside every bracket), and which of GROUP and LIMIT
    # are written there (what ask_as_select needs to know).
    trailing_values_at: int | None = None
    modifiers: set[str] = field(default_factory=set)
    is_update: bool = False
    service_targets: list[str] = field(default_factory=list)
    # The graphs named by FROM and FROM NAMED ('' where a prefixed name cannot be read).
    dataset_iris: list[str] = field(default_factory=list)
    # Where each of those clauses is written in the text (from FROM to the end of its graph), in the same order, and
    # whether it is a FROM NAMED.
    dataset_spans: list[tuple[int, int]] = field(default_factory=list)
    dataset_named: list[bool] = field(default_factory=list)
    # Each GRAPH written with an IRI ('' where a prefixed name cannot be read), and the offset just after the `{` of the
    # group that holds it (None outside any group, or within a SERVICE's, where graph names are the other endpoint's).
    graph_targets: list[tuple[str, int | None]] = field(default_factory=list)
    # Where each SERVICE target is written in the text (start, end), in the same order.
    service_spans: list[tuple[int, int]] = field(default_factory=list)
    volatile: bool = False
    # Every keyword (upper case) and variable name (without ? or $) outside comments and strings.
    keywords: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    # The offset just after the first `{`: in a SELECT query, the opening of its WHERE clause.
    where_start: int | None = None
    # The deepest nesting of brackets and of unary operators, and where it is reached.
    nesting: int = 0
    nesting_at: int = 0
    # The first prefixed name whose prefix no PREFIX before it declares: (the prefix with its colon, offset).
    undeclared: tuple[str, int] | None = None
    # The first word or IRI that is no part of standard SPARQL 1.1 but an engine's own extension (Virtuoso's DEFINE
    # pragmas, its bif: and sql: functions, …): (what, offset).
    extension: tuple[str, int] | None = None


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    """The significant tokens of a text, with keyword-prefixed names split as the engine reads them."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup or "other", match.group()
        if kind in ("ws", "comment"):
            continue
        prefix = value.partition(":")[0]
        declared = bool(tokens) and tokens[-1].kind == "word" and tokens[-1].value.upper() == "PREFIX"
        if kind == "pname" and prefix.upper() in _SPLIT and not declared:
            split = match.start() + len(prefix)
            tokens.append(_Token("word", prefix, match.start(), split))
            tokens.append(_Token("pname", value[len(prefix):], split, match.end()))
            continue
        tokens.append(_Token(kind, value, match.start(), match.end()))
    return tokens


def iri_value(token: str) -> str:
    """The IRI an IRIREF token stands for: without its brackets, with UCHAR escapes read."""
    return _UCHAR_IN_TEXT.sub(lambda m: chr(int(m.group()[2:], 16)), token[1:-1])


def analyse(text: str, extensions: bool = False) -> SparqlText:
    """Read a SPARQL query or update text for its form, SERVICE targets, volatility, nesting, undeclared prefixes and
    (if asked: it costs a fifth more on a long query) engine extensions."""
    result = SparqlText()
    prefixes: dict[str, str] = {}
    declared: set[str] = set()
    tokens = _tokens(text)
    # The parser goes a level deeper per open bracket, and per `!` until its operand ends: a run of
    # `!`s ends at the next token, or with the bracket that follows it (`!(…)`), whichever holds it.
    levels, level, pending = [], 0, 0
    # The groups open at each token: where each starts (None for a SERVICE's and the groups within it).
    groups: list[int | None] = []
    service_next = False
    for index, token in enumerate(tokens):
        kind, value = token.kind, token.value
        upper = value.upper() if kind == "word" else ""
        if value == "{" and kind == "other":
            within_service = service_next or (bool(groups) and groups[-1] is None)
            groups.append(None if within_service else token.end)
            service_next = False
        elif value == "}" and kind == "other" and groups:
            groups.pop()
        if upper:
            result.keywords.add(upper)
        elif kind == "var":
            result.variables.add(value[1:])
        elif value == "{" and result.where_start is None:
            result.where_start = token.end
        if kind == "other" and value == "!":
            pending += 1
        elif kind == "other" and value in _OPENING:
            levels.append(pending + 1)
            level, pending = level + pending + 1, 0
        elif kind == "other" and value in _CLOSING and levels:
            level, pending = level - levels.pop(), 0
        else:
            pending = 0
        if level + pending > result.nesting:
            result.nesting, result.nesting_at = level + pending, token.start
        if kind == "pname":
            prefix = value.partition(":")[0]
            if index > 0 and tokens[index - 1].kind == "word" and tokens[index - 1].value.upper() == "PREFIX":
                declared.add(prefix)
            elif prefix not in declared and result.undeclared is None:
                result.undeclared = prefix + ":", token.start
        if extensions and result.extension is None:
            result.extension = _extension(token, upper, prefixes)
        if upper == "PREFIX" and index + 2 < len(tokens) and tokens[index + 1].kind == "pname":
            following = tokens[index + 2]
            prefixes[tokens[index + 1].value.rstrip(":")] = iri_value(following.value) if following.kind == "iri" else ""
        elif result.form is None and not result.is_update and upper in QUERY_FORMS:
            result.form, result.form_span = upper, (token.start, token.end)
        elif upper == "VALUES" and level == 0 and result.form is not None and result.trailing_values_at is None:
            result.trailing_values_at = token.start
        elif upper in ("GROUP", "LIMIT") and level == 0:
            result.modifiers.add(upper)
        elif result.form is None and not result.is_update and upper in UPDATE_KEYWORDS:
            result.is_update = True
        elif upper == "SERVICE":
            target, at = _named_target(tokens, index + 1, prefixes, "SILENT")
            result.service_targets.append(target)
            result.service_spans.append((tokens[at].start, tokens[at].end))
            service_next = True
        elif upper == "FROM":
            target, at = _named_target(tokens, index + 1, prefixes, "NAMED")
            result.dataset_iris.append(target)
            result.dataset_spans.append((token.start, tokens[at].end))
            result.dataset_named.append(at > index + 1 and tokens[index + 1].value.upper() == "NAMED")
        elif upper == "GRAPH" and index + 1 < len(tokens) and tokens[index + 1].kind in ("iri", "pname"):
            target, _ = _named_target(tokens, index + 1, prefixes)
            result.graph_targets.append((target, groups[-1] if groups else None))
        elif upper in _VOLATILE:
            result.volatile = True
    return result


def ask_as_select(query: str, text: SparqlText) -> str:
    """An ASK query as the SELECT that has a solution exactly when the ASK is true (at most one asked for).

    For external stores: Virtuoso 7.2 answers `ASK { GRAPH <g> { ?s ?p ?o } }` true for a graph outside the
    protocol's dataset, and `SELECT *` of the same pattern right (a pattern without variables, or a projection of none
    of them, it still answers with a solution there, unless its group is emptied: see outside_graphs_emptied)."""
    start, end = text.form_span or (0, 0)
    cut = len(query) if text.trailing_values_at is None else text.trailing_values_at
    limit = "" if "LIMIT" in text.modifiers else "\nLIMIT 1\n"
    projection = "SELECT (1 AS ?ask)" if "GROUP" in text.modifiers or not text.variables else "SELECT *"
    return query[:start] + projection + query[end:cut] + limit + query[cut:]


# Every bare word SPARQL 1.1 has (keywords and built-in functions; `a`, `true`, `false`).
SPARQL_WORDS = frozenset("""
    BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT WHERE DESCRIBE ASK FROM NAMED GROUP BY HAVING ORDER ASC DESC
    LIMIT OFFSET VALUES LOAD SILENT INTO CLEAR DROP CREATE ADD TO MOVE COPY INSERT DATA DELETE WITH USING DEFAULT
    GRAPH ALL OPTIONAL SERVICE BIND UNDEF MINUS UNION FILTER A IN NOT EXISTS STR LANG LANGMATCHES DATATYPE BOUND
    IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS
    STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384
    SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE COUNT
    SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR TRUE FALSE
""".split())
# IRI schemes and namespaces through which engines expose functions of their own (Virtuoso: bif:file_to_string,
# sql:…, and their http://www.openlinksw.com/ forms).
_ENGINE_NAMESPACES = ("bif:", "sql:", "http://www.openlinksw.com/")


def _extension(token: _Token, upper: str, prefixes: dict[str, str]) -> tuple[str, int] | None:
    """The token, if it is an engine's own word or an IRI of an engine's own functions (see SparqlText.extension)."""
    if upper and upper not in SPARQL_WORDS:
        return token.value, token.start
    iri = ""
    if token.kind == "iri":
        iri = iri_value(token.value)
    elif token.kind == "pname":
        prefix, _, local = token.value.partition(":")
        iri = (prefixes.get(prefix) or "") + _LOCAL_ESCAPE.sub(r"\1", local)
    return (iri, token.start) if iri.lower().startswith(_ENGINE_NAMESPACES) else None


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset in a text."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _named_target(tokens: list[_Token], at: int, prefixes: dict[str, str], modifier: str | None = None) -> tuple[str, int]:
    """The IRI at a position, after an optional modifier keyword ('' if not an IRI), and its token's index."""
    if modifier and at < len(tokens) and tokens[at].kind == "word" and tokens[at].value.upper() == modifier:
        at += 1
    if at >= len(tokens):
        return "", len(tokens) - 1
    token = tokens[at]
    if token.kind == "iri":
        return iri_value(token.value), at
    if token.kind == "pname":
        prefix, _, local = token.value.partition(":")
        # PN_LOCAL_ESC: the backslash is dropped (`ex:a\#b` is <…a#b>); %-escapes are kept as written.
        return (prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local) if prefixes.get(prefix) else ""), at
    return "", at


def without_dataset_clauses(text: str, analysed: SparqlText) -> str:
    """The text without its FROM and FROM NAMED clauses: what an engine is sent when the protocol's dataset replaces
    the query's, as the standard says it does (Virtuoso 7.2 lets the query's FROM win otherwise).

    Each clause is blanked out, line breaks kept, so that every other character keeps its line and column: an error
    the engine reports further on points where the client wrote it."""
    for start, end in analysed.dataset_spans:
        text = text[:start] + _NOT_LINE_BREAK.sub(" ", text[start:end]) + text[end:]
    return text


def outside_graphs_emptied(text: str, analysed: SparqlText, named_graphs: set[str]) -> str:
    """The text with `FILTER(false)` in each group that holds a `GRAPH <g>` whose g is no named graph of the dataset.

    Exact: such a GRAPH pattern has no solution (SPARQL 1.1 Query, 18.6), so neither has the group that joins it, and
    the filter empties that group and nothing more. For external stores: Virtuoso 7.2 answers a GRAPH pattern without
    variables as if the graph were any, when the graph is outside the dataset, and honours a filter on the group."""
    groups = {at for iri, at in analysed.graph_targets if iri and at is not None and iri not in named_graphs}
    for at in sorted(groups, reverse=True):
        text = text[:at] + " FILTER(false) " + text[at:]
    return text


def replace_services(text: str, analysed: SparqlText, replacement: dict[str, str]) -> str:
    """The text with each SERVICE target named in replacement written as its replacement IRI."""
    for target, (start, end) in sorted(zip(analysed.service_targets, analysed.service_spans, strict=True),
                                       key=lambda ts: ts[1][0], reverse=True):
        if target in replacement:
            text = text[:start] + f"<{replacement[target]}>" + text[end:]
    return text
