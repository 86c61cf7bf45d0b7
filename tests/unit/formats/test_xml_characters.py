"""The XML guard: the characters XML 1.0 cannot carry are named wherever they fall in the chunks a writer hands
over; carriage returns come back as carriage returns; everything else passes unchanged."""

import pickle
import xml.etree.ElementTree as ET

import pytest

from server.formats.registry import FORMATS, RDFXML, SPARQL_XML
from server.formats.xml_characters import NotXmlCharacterError, XmlOutputGuard, non_xml_character, xml_output
from tests.support.xml_characters import NOT_XML, codepoint_id

XML_CARRIES = ["\t", "\n", " ", "\x7f", "\x85", "\ud7ff", "\ue000", "\ufffd", "\U00010000", "\U0010ffff"]


def _written(document: str, cut: int) -> bytes:
    """The document handed to the guard in two chunks, cut at byte `cut`."""
    data = document.encode("utf-8")
    guard = XmlOutputGuard(SPARQL_XML)
    return guard(data[:cut]) + guard(data[cut:])


def test_the_xml_formats_are_those_written_as_xml() -> None:
    assert sorted(f.name for f in FORMATS if f.xml) == ["iati", "rdfxml", "xml"]


@pytest.mark.parametrize("character", NOT_XML, ids=codepoint_id)
def test_a_character_xml_cannot_carry_is_named_wherever_the_chunks_are_cut(character: str) -> None:
    document = f"<literal>a{character}b</literal>"
    assert non_xml_character(document) == f"U+{ord(character):04X}"
    for cut in range(len(document.encode("utf-8")) + 1):
        with pytest.raises(NotXmlCharacterError) as refused:
            _written(document, cut)
        assert refused.value.status == 406
        assert refused.value.detail == (
            f"The answer holds U+{ord(character):04X} in a value, a character that XML 1.0 cannot carry, so it cannot "
            "be written as SPARQL XML; ask for one of: application/sparql-results+json, text/csv, "
            "text/tab-separated-values.")


def test_every_character_xml_carries_passes_unchanged_and_a_carriage_return_is_escaped() -> None:
    text = "".join(XML_CARRIES) + "\r\n\r"
    assert non_xml_character(text) is None
    document = f"<literal>{text}</literal>"
    expected = document.replace("\r", "&#13;").encode("utf-8")
    for cut in range(len(document.encode("utf-8")) + 1):
        written = _written(document, cut)
        assert written == expected
        assert ET.fromstring(written).text == text


def test_the_refusal_crosses_from_a_worker_process_intact() -> None:
    with pytest.raises(NotXmlCharacterError) as refused:
        xml_output(b"<p>\x01</p>", RDFXML)
    again = pickle.loads(pickle.dumps(refused.value))
    assert (type(again), again.status, again.detail) == (NotXmlCharacterError, 406, refused.value.detail)
    assert again.detail.endswith("as RDF/XML; ask for one of: text/turtle, application/n-triples, application/ld+json.")
