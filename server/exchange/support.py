"""What every converter of partners' data needs: path-safe identifiers, and the descriptions it writes in support.

A converted file names countries and organisations the graph may not hold yet. The converter describes them
(from ISO 3166 for countries, from the file for organisations) and lists them as supporting: where the graph
describes them already, the description is dropped and the file refers to the graph's (see inputs).
"""

import re

import pycountry
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from server.namespaces import ID, ILOP
from server.rdf.origins import Origin, OriginGraph

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

    def country(self, code: str, origin: Origin) -> URIRef:
        """The country of an ISO 3166-1 alpha-2 code, described from ISO 3166 (an unknown code is left undescribed,
        for the shapes to report where it is written)."""
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
