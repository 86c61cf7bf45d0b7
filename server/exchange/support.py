"""What every converter of partners' data needs: path-safe identifiers, and the descriptions it writes in support.

A converted file names countries and organisations the graph may not hold yet. The converter describes them
(from ISO 3166 for countries, from the file for organisations) and lists them as supporting: where the graph
describes them already, the description is dropped and the file refers to the graph's (see inputs).
"""

import re

import pycountry
from rdflib import Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, XSD
from rdflib.term import Node

from server.formats.lexical import XSD_DECIMAL
from server.namespaces import CODELIST, ID, ILOP
from server.rdf.origins import Origin, OriginGraph

# A code fit to end an IRI as it is; other codes stay literals, which the shapes report where they are written.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A language tag (BCP 47's shape): what rdflib and the RDF syntaxes accept.
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def concept(scheme: str, code: str) -> URIRef | Literal:
    """The concept of a code in one of the graph's codelists (codelist/{scheme}/{code}), or the code as a literal if it
    cannot name one (spaces, brackets…): then no shape's codelist holds it, and the report says where it is."""
    code = code.strip()
    return URIRef(f"{CODELIST}{scheme}/{code}") if _CODE.fullmatch(code) else Literal(code)


def decimal(text: str) -> Literal:
    """A number as an xsd:decimal, as written; text that is no decimal as XML Schema writes it (an exponent, NaN,
    separators, other scripts' digits) stays a plain literal, which the shapes report where it is written.

    Python's Decimal reads all of those, and rdflib writes its value out in full: "1e999999999" became a billion
    digits."""
    number = text.strip()
    return Literal(number, datatype=XSD.decimal, normalize=False) if XSD_DECIMAL.fullmatch(number) else Literal(text)


def period(out: OriginGraph, owner: Node, predicate: Node, origin: Origin, start: Literal | None, end: Literal | None,
           start_origin: Origin | None = None, end_origin: Origin | None = None) -> None:
    """The owner's period (a dcterms:PeriodOfTime by predicate, written at origin) from its start and end, if either
    is given; each date where it was read (else at origin)."""
    if start is None and end is None:
        return
    node = out.part(owner, predicate, DCTERMS.PeriodOfTime, origin)
    for step, value, written in ((DCAT.startDate, start, start_origin), (DCAT.endDate, end, end_origin)):
        if value is not None:
            out.add(node, step, value, written or origin)


def language_tag(value: str) -> str | None:
    """The value as a language tag (lower case), or None if it is not one."""
    return value.lower() if _LANGUAGE.fullmatch(value) else None


# The source of the names and codes of countries that no file states but ISO 3166 does.
ISO_3166_SOURCE = ID["source/iso-3166"]
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


def slug(identifier: str) -> str:
    """An identifier as one path segment: other characters than letters, digits, '.' and '-' as _XX (hex of UTF-8)."""
    return _UNSAFE.sub(lambda m: "".join(f"_{b:02X}" for b in m.group().encode("utf-8")), identifier)


class Supporting:
    """The nodes a converter described in support, each once."""

    def __init__(self, out: OriginGraph):
        self.out = out
        self.described: set[URIRef] = set()

    def first(self, iri: URIRef) -> bool:
        """Whether iri is described here for the first time (and is now counted as described)."""
        if iri in self.described:
            return False
        self.described.add(iri)
        return True

    def country(self, code: str, origin: Origin) -> URIRef | Literal:
        """The country of an ISO 3166-1 alpha-2 code, described from ISO 3166 (an unknown code is left undescribed,
        and one that cannot name a country stays a literal, for the shapes to report where it is written)."""
        if not _CODE.fullmatch(code):
            return Literal(code)
        iri = URIRef(f"{ID}country/{code}")
        found = pycountry.countries.get(alpha_2=code) if re.fullmatch("[A-Z]{2}", code) else None
        if found is not None and self.first(iri):
            self.out.node(iri, origin)
            self.out.add(iri, RDF.type, ILOP.Country, origin)
            self.out.add(iri, RDFS.label, Literal(found.name, lang="en"), origin)
            self.out.add(iri, ILOP.iso3166Alpha2, Literal(found.alpha_2), origin)
            self.out.add(iri, ILOP.iso3166Alpha3, Literal(found.alpha_3), origin)
            self.out.add(iri, ILOP.m49Code, Literal(found.numeric), origin)
            self.out.add(iri, PROV.wasDerivedFrom, ISO_3166_SOURCE, origin)
        return iri
