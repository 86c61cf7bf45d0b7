"""The one registry of formats: every format named once, every offer answerable, every IRI W3C's."""

import pyoxigraph as ox
import pytest

from server.formats import registry
from server.formats.registry import FORMATS, Format, Kind, Offer

OFFERS = {name: value for name, value in vars(registry).items() if isinstance(value, Offer)}


def test_the_registry_holds_every_format_once() -> None:
    assert len(FORMATS) == len(set(FORMATS)) >= 13
    # Within a kind, a name means one format (across kinds, "json" is SPARQL JSON or plain JSON).
    for kind in Kind:
        of_kind = [f for f in FORMATS if f.kind is kind]
        assert len({f.name for f in of_kind}) == len(of_kind), kind


def test_every_offer_is_found_and_unambiguous() -> None:
    assert set(OFFERS) >= {"SELECT_ANSWER", "ASK_ANSWER", "GRAPH_ANSWER", "RESOURCE", "CANNED_PAGE", "CATALOGUE", "REPORT"}
    for name, offer in OFFERS.items():
        words = [w for f in offer.formats for w in (f.name, *f.aliases, *f.media_types)]
        assert len(words) == len(set(words)), name
        assert all(f in FORMATS for f in offer.formats), name


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.kind in (Kind.SOLUTIONS, Kind.GRAPH)], ids=lambda f: f.name)
def test_every_rdf_and_results_format_has_its_w3c_iri_and_a_serialiser(fmt: Format) -> None:
    assert fmt.w3c is not None and fmt.w3c.startswith("http://www.w3.org/ns/formats/")
    expected = ox.QueryResultsFormat if fmt.kind is Kind.SOLUTIONS else ox.RdfFormat
    assert isinstance(fmt.oxigraph, expected)
    assert fmt.oxigraph.media_type.split(";")[0] == fmt.media_type


@pytest.mark.parametrize(("form", "names"), [
    ("SELECT", ["json", "xml", "csv", "tsv"]), (None, ["json", "xml", "csv", "tsv"]), ("ASK", ["json", "xml"]),
    ("CONSTRUCT", ["turtle", "ntriples", "jsonld", "rdfxml"]), ("DESCRIBE", ["turtle", "ntriples", "jsonld", "rdfxml"]),
])
def test_a_query_form_has_the_formats_that_carry_its_answer(form: str | None, names: list[str]) -> None:
    assert [f.name for f in registry.answer_offer(form).formats] == names


def test_the_readable_syntaxes_are_found_by_extension() -> None:
    extensions = [e for f in registry.READABLE_SYNTAXES for e in f.extensions]
    assert len(extensions) == len(set(extensions)) >= 8
    # RDF is parsed by pyoxigraph; records of the domain (IATI) are converted (server.exchange.inputs).
    assert all(isinstance(f.oxigraph, ox.RdfFormat) or f.kind is Kind.RECORDS for f in registry.READABLE_SYNTAXES)
    assert [f.name for f in registry.READABLE_SYNTAXES if f.kind is Kind.RECORDS] == ["iati", "csv", "xlsx"]
