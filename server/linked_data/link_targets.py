"""The other open-data graphs the data links into, each known by the IRI pattern of its resources.

Every link in the data (owl:sameAs, rdfs:seeAlso to a resource outside the project) must
match one of these patterns (a test checks it); the dataset description counts the links
into each as a void:Linkset.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkTarget:
    """An external graph: its name, homepage, the namespace of its resources and the form of their ids."""

    name: str
    title: str
    homepage: str
    namespace: str
    pattern: re.Pattern[str]

    def matches(self, iri: str) -> bool:
        """Whether an IRI is one of this graph's resources, in its documented form."""
        return self.pattern.fullmatch(iri) is not None

    def display(self, iri: str) -> str:
        """A short name for one of its resources, such as 'Wikidata Q884'."""
        local = iri[len(self.namespace):].strip("/")
        return f"{self.title} {local}"


LINK_TARGETS: tuple[LinkTarget, ...] = (
    LinkTarget(
        "wikidata", "Wikidata", "https://www.wikidata.org/", "http://www.wikidata.org/entity/",
        re.compile(r"http://www\.wikidata\.org/entity/Q[1-9][0-9]*"),
    ),
    LinkTarget(
        "geonames", "GeoNames", "https://www.geonames.org/", "http://sws.geonames.org/",
        re.compile(r"http://sws\.geonames\.org/[1-9][0-9]*/"),
    ),
    LinkTarget(
        "eu-country", "EU country authority", "https://op.europa.eu/en/web/eu-vocabularies/dataset/-/resource?uri=http://publications.europa.eu/resource/dataset/country",
        "http://publications.europa.eu/resource/authority/country/",
        re.compile(r"http://publications\.europa\.eu/resource/authority/country/[A-Z]{3}"),
    ),
    LinkTarget(
        "normlex", "NORMLEX", "https://normlex.ilo.org/", "https://normlex.ilo.org/dyn/nrmlx_en/f?p=NORMLEXPUB:12100:0::NO::P12100_ILO_CODE:",
        re.compile(r"https://normlex\.ilo\.org/dyn/nrmlx_en/f\?p=NORMLEXPUB:12100:0::NO::P12100_ILO_CODE:[CP][0-9]{3}"),
    ),
)


def target_of(iri: str) -> LinkTarget | None:
    """The external graph an IRI belongs to, or None."""
    return next((t for t in LINK_TARGETS if t.matches(iri)), None)
