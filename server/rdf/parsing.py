"""Safe parsing of RDF submitted by people: nothing is fetched, nothing is read but the input.

pyoxigraph parses (it fetches no remote JSON-LD context and reports errors with line and
column); the result becomes an ordinary in-memory rdflib graph, the form pyshacl needs.
Guards around it:
- the bytes must be UTF-8 (an invalid byte is reported with its line and column);
- RDF/XML may not declare entities: expanding them ("billion laughs") costs minutes of CPU
  in both pyoxigraph and rdflib, so a defusedxml pass refuses them before parsing;
- relative IRIs are refused instead of being resolved against the reader's location, and
  file: IRIs are refused because they name files on the machine that reads them.
"""

import json
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax import SAXParseException

import pyoxigraph as ox
from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from server.formats.xml_characters import NOT_XML_TEXT, codepoint
from server.namespaces import BASE, XSD
from server.rdf.documents import CONTEXT_PATH, jsonld_context
from server.rdf.origins import OriginGraph
from server.rdf.syntaxes import Format

# Relative IRIs are resolved against this base so that they can be found and refused;
# the .invalid top-level domain (RFC 2606) can never name a real host.
RELATIVE_BASE = "https://relative-iri.invalid/"
# The IRI of the project's JSON-LD context (a server publishes it at /context.jsonld).
CONTEXT_IRI = f"{BASE}{CONTEXT_PATH}"
_XSD_STRING = XSD + "string"
# pyoxigraph puts the position into its message too; it is reported separately here.
_POSITION_PREFIX = re.compile(r"^Parser error (?:at|between) [^:]*: |\s*\(line \d+\)$")


class RdfInputError(Exception):
    """Input that cannot be read as RDF, with where in the input the problem is."""

    def __init__(self, message: str, *, source: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Errors raised in a worker process travel back pickled; keyword arguments must survive.
        return (_rebuild_input_error, (self.message, self.source, self.line, self.column))

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class TooManyTriplesError(RdfInputError):
    """The input holds more triples than allowed."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild_too_many, (self.message, self.source))


def _rebuild_too_many(message: str, source: str) -> TooManyTriplesError:
    return TooManyTriplesError(message, source=source)


def _rebuild_input_error(message: str, source: str, line: int | None, column: int | None) -> RdfInputError:
    return RdfInputError(message, source=source, line=line, column=column)


@dataclass
class ParsedDocument:
    """One parsed input: its text (to point at lines), syntax, prefixes and triples."""

    source: str
    text: str
    syntax: Format
    graph: Graph
    prefixes: dict[str, str] = field(default_factory=dict)
    # For a file converted from another format (IATI, a spreadsheet): where each node and statement came from.
    origins: "OriginGraph | None" = None
    # Nodes the converter described only in support (organisations, countries, sources): dropped where the
    # graph describes them already (see server.exchange.iati_mapping.drop_supporting).
    supporting: frozenset[str] = frozenset()
    # What the report should say about how the file was read (an old IATI version, for one).
    notices: tuple[str, ...] = ()
    # What reading found against the format's own schema: (node IRI, where, line, message), reported as warnings.
    warnings: tuple[tuple[str, str, int | None, str], ...] = ()


def parse_rdf(
    data: bytes, syntax: Format, source: str, max_triples: int | None = None, own_contexts: Iterable[str] = (),
) -> ParsedDocument:
    """Parse RDF bytes of a known syntax into a graph (the union of all its graphs).

    Raises RdfInputError, with a line and column where the syntax allows, for input that is
    not UTF-8, not well-formed, declares XML entities, needs a remote JSON-LD context, uses
    relative or file: IRIs, or holds more than max_triples triples. JSON-LD that names the
    project's own context by URL (its IRI, or one of own_contexts: where a server publishes it)
    is read with that context, from memory: the server's own JSON-LD comes back in.
    """
    text = decode(data, source)
    if syntax.oxigraph == ox.RdfFormat.RDF_XML:
        _refuse_xml_entities(data, source)
    if syntax.oxigraph == ox.RdfFormat.JSON_LD:
        data = _own_context_inline(text, (CONTEXT_IRI, *own_contexts)).encode("utf-8")
    parser = ox.parse(data, format=syntax.oxigraph, base_iri=RELATIVE_BASE)
    quads = []
    try:
        # Read in full first (fast, native), so that an input over the limit is refused before
        # the slower conversion to rdflib terms.
        for quad in parser:
            quads.append(quad)
            if max_triples is not None and len(quads) > max_triples:
                raise TooManyTriplesError(
                    f"the input holds more than {max_triples} triples, the most accepted at once; split it into smaller files",
                    source=source,
                )
    except SyntaxError as error:
        raise _syntax_error(error, source) from None
    except RecursionError:
        raise RdfInputError("the input is nested too deeply to be read", source=source) from None
    graph = Graph()
    add_quads(graph, quads, source)
    document = ParsedDocument(source, text, syntax, graph, dict(parser.prefixes or {}))
    refuse_unsafe_iris(document)
    return document


def _own_context_inline(text: str, urls: Iterable[str]) -> str:
    """The JSON-LD text with each "@context" that names one of the urls (alone, or first in a list)
    replaced by the context itself, written on one line so that line numbers stay as they were."""
    inline = json.dumps(jsonld_context(), separators=(",", ":"))
    for url in urls:
        quoted = re.escape(json.dumps(url))
        text = re.sub(rf'("@context"\s*:\s*\[?\s*){quoted}', lambda m: m.group(1) + inline, text)
    return text


def add_quads(graph: Graph, quads: Iterable[ox.Quad], source: str) -> None:
    """Add pyoxigraph quads to an rdflib graph as triples (their graph names are dropped)."""
    graph.addN(
        (rdflib_term(q.subject, source), rdflib_term(q.predicate, source), rdflib_term(q.object, source), graph)
        for q in quads
    )


def graph_of_ntriples(ntriples: bytes, source: str) -> Graph:
    """N-Triples (from the store) as an rdflib graph, each literal as written (rdflib's own parser rewrites them)."""
    graph = Graph()
    add_quads(graph, ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES), source)
    return graph


def decode(data: bytes, source: str) -> str:
    """The input as text: UTF-8 (a BOM allowed), without control characters; RdfInputError with the place if not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position(data, error.start)
        raise RdfInputError(
            f"the input is not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8",
            source=source, line=line, column=column,
        ) from None
    # Written raw; an escaped one (\u0001 in Turtle or JSON) is found in the value by the submission rules.
    control = NOT_XML_TEXT.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        column = control.start() - (text.rfind("\n", 0, control.start()) + 1) + 1
        kind = "control character" if control.group() < " " else "noncharacter"
        raise RdfInputError(
            f"the input holds the {kind} {codepoint(control.group())}, which no RDF syntax can carry "
            "everywhere (XML forbids it); remove it",
            source=source, line=line, column=column,
        )
    return text


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _refuse_xml_entities(data: bytes, source: str) -> None:
    parser = create_parser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException:
        raise RdfInputError(
            "RDF/XML entity declarations (<!ENTITY …>) are not accepted, because expanding them can "
            "exhaust the machine; write each &name; out in full",
            source=source,
        ) from None
    except SAXParseException as error:
        raise RdfInputError(
            f"the XML is not well-formed: {error.getMessage()}",
            source=source, line=error.getLineNumber(), column=error.getColumnNumber() + 1,
        ) from None


def _syntax_error(error: SyntaxError, source: str) -> RdfInputError:
    message = _POSITION_PREFIX.sub("", str(error.msg if error.msg else error))
    if "LoadDocumentCallback" in message:
        message = (
            "the JSON-LD refers to a remote @context (or @import), which is never fetched; "
            f"put the context inline as a JSON object (the project's own context, {CONTEXT_IRI} or this "
            "server's /context.jsonld, is read without fetching)"
        )
    return RdfInputError(message, source=source, line=error.lineno, column=error.offset)


def rdflib_term(term: object, source: str) -> Node:
    """A pyoxigraph term as rdflib's (RdfInputError for a triple term, which rdflib cannot hold)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        # A plain string stays plain: an explicit xsd:string datatype makes pyshacl's sh:in
        # and sh:hasValue comparisons fail against the plain literals of the shapes.
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        # As written: rdflib would rewrite the lexical form from its Python value, and "1e99999999"^^xsd:decimal
        # (11 bytes) would become 100 MB of digits; the store's canonical form is the engine's (see canonical).
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise RdfInputError("RDF 1.2 triple terms are not supported", source=source)


def oxigraph_term(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as pyoxigraph's (the reverse of rdflib_term; a plain literal is an xsd:string)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or _XSD_STRING)))
    raise TypeError(f"not an RDF term: {term!r}")


# Bidirectional formatting characters, which RFC 3987 (4.1) forbids in IRIs: LRM, RLM, LRE, RLE, PDF, LRO, RLO; the
# isolates and the Arabic letter mark that Unicode added since do the same. In an IRI they make it display as another
# text (a page or a report would show one IRI while the graph holds another). File names are cleared of them too.
BIDI_FORMATTING = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _bidi_escaped(text: str, case: str) -> str:
    return BIDI_FORMATTING.sub(lambda match: f"\\u{ord(match.group()):04{case}}", text)


def refuse_unsafe_iris(document: ParsedDocument) -> None:
    """Refuse (RdfInputError) relative and file: IRIs, IRIs with bidirectional formatting characters, and IRIs of a
    scheme a browser runs (javascript:, vbscript:, data:), with the line where they are written."""
    # Datatype IRIs too (Turtle ^^, JSON-LD @type of a value, RDF/XML rdf:datatype): they follow the same rules.
    terms = {t for triple in document.graph for t in triple if isinstance(t, URIRef)}
    terms |= {t.datatype for t in document.graph.objects() if isinstance(t, Literal) and t.datatype is not None}
    for term in sorted(terms):  # in order, so that the same file always gets the same answer
        if term.startswith(RELATIVE_BASE):
            written = _relative_iri_as_written(document.text) or term[len(RELATIVE_BASE):]
            raise RdfInputError(
                f"relative IRI <{written}>: declare a base (@base or @context/@base) or write absolute IRIs",
                source=document.source, line=first_line_of(document.text, written),
            )
        if term[:5].lower() == "file:":
            raise RdfInputError(
                f"file: IRI <{term}> is not accepted: name things with http(s), urn or similar IRIs",
                source=document.source, line=first_line_of(document.text, term),
            )
        if bidi := BIDI_FORMATTING.search(term):
            shown = _bidi_escaped(term, "X")
            # Written as it is, or (as a file would hide it) escaped, in upper or lower case hexadecimal.
            lines = (first_line_of(document.text, written) for written in (term, shown, _bidi_escaped(term, "x")))
            raise RdfInputError(
                f"IRI <{shown[:300]}> holds {codepoint(bidi.group())}, a bidirectional formatting character, which "
                "IRIs may not hold (RFC 3987, 4.1): it makes the IRI display as another text. Remove it",
                source=document.source, line=next((line for line in lines if line is not None), None),
            )
        scheme = term.split(":", 1)[0].lower()
        if scheme in BROWSER_SCHEMES:
            raise RdfInputError(
                f"{scheme}: IRI <{term[:300]}> is not accepted: a browser runs or shows such an IRI as content, so no "
                "page could link to it safely; name things with http(s), urn or similar IRIs",
                source=document.source, line=first_line_of(document.text, term),
            )


# Schemes whose IRIs a browser runs or shows as a document of their own (a link to one is a script on our pages):
# never names of things. Pages also link only http(s) IRIs, and the pages' policy allows no such script.
BROWSER_SCHEMES = frozenset({"javascript", "vbscript", "data"})

# An IRI in angle brackets (Turtle family) or an @id / rdf:about value (JSON-LD, RDF/XML)
# that has no scheme, as the author wrote it.
_RELATIVE_IRI = re.compile(r'<([^:<>"\s]*)>|"@id"\s*:\s*"([^:"]*)"|rdf:(?:about|resource)="([^:"]*)"')


def _relative_iri_as_written(text: str) -> str | None:
    for match in _RELATIVE_IRI.finditer(text):
        return next(group for group in match.groups() if group is not None)
    return None


def first_line_of(text: str, needle: str) -> int | None:
    """The 1-based number of the first line of text that contains needle, if any."""
    offset = text.find(needle)
    if offset < 0:
        return None
    return text.count("\n", 0, offset) + 1


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of text starts, for turning offsets into line numbers."""
    return [0, *(match.end() for match in re.finditer("\n", text))]


def line_of_offset(starts: list[int], offset: int) -> int:
    """The 1-based line number of an offset, given the line starts of its text."""
    return bisect_right(starts, offset)
