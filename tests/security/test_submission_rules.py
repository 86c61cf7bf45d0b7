"""Submissions follow their own rules everywhere: datatype IRIs obey the IRI rules in every syntax,
the IRIs the server describes itself are reserved, and nothing enters the graph that no rule checks
(untyped or unchecked classes, blank nodes that nothing named leads to)."""

import httpx
import pytest

from server.namespaces import RESERVED_NAMESPACES
from tests.support.problems import problem
from tests.support.servers import SubmissionServer
from tests.support.xml_characters import NOT_XML, codepoint_id

P = ("@prefix ilop: <https://w3id.org/ilo-partnerships/ontology#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
     "@prefix ex: <https://example.org/> .\n")
RDFXML = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
          '<rdf:Description rdf:about="https://example.org/x"><rdfs:label rdf:datatype="{datatype}">x</rdfs:label>'
          "</rdf:Description></rdf:RDF>")
JSONLD = ('{{"@id": "https://example.org/x", "http://www.w3.org/2000/01/rdf-schema#label": '
          '{{"@value": "x", "@type": "{datatype}"}}}}')

DATATYPES = {"file": ("file:///etc/passwd", "file: IRI <file:///etc/passwd> is not accepted"),
             "relative": ("foo", "relative IRI <foo>"),
             "javascript": ("javascript:alert(1)", "javascript: IRI <javascript:alert(1)> is not accepted")}
SYNTAXES = {
    "turtle": ("text/turtle", lambda d: P + f'ex:x rdfs:label "x"^^<{d}> .'),
    "jsonld": ("application/ld+json", lambda d: JSONLD.format(datatype=d)),
    "rdfxml": ("application/rdf+xml", lambda d: RDFXML.format(datatype=d)),
}


def _post(server: SubmissionServer, path: str, body: str, media_type: str = "text/turtle") -> httpx.Response:
    headers = {"Content-Type": media_type, **(server.auth("alice") if path == "/submissions" else {})}
    return httpx.post(server.url + path, content=body.encode(), headers=headers, timeout=60)


@pytest.mark.parametrize("path", ["/validate", "/submissions"])
@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("datatype", DATATYPES)
def test_a_datatype_iri_obeys_the_iri_rules_in_every_syntax(
    submission_server: SubmissionServer, path: str, syntax: str, datatype: str
) -> None:
    media_type, build = SYNTAXES[syntax]
    iri, message = DATATYPES[datatype]
    answer = _post(submission_server, path, build(iri), media_type)
    assert answer.status_code == 400
    assert message in problem(answer)[1]


def _refused(server: SubmissionServer, body: str, message: str) -> None:
    """Both entry points refuse the file with the message: /validate reports it, /submissions stores nothing."""
    report = _post(server, "/validate", body).json()
    assert report["conforms"] is False
    assert [r["message"] for r in report["results"] if message in r["message"]], report["results"]
    stored = _post(server, "/submissions", body)
    assert stored.status_code == 422


def test_every_reserved_namespace_is_refused_even_when_typed(submission_server: SubmissionServer) -> None:
    assert len(RESERVED_NAMESPACES) >= 12
    for namespace in RESERVED_NAMESPACES:
        _refused(submission_server, P + f'<{namespace}x> a ilop:Project ; rdfs:label "x"@en .',
                 "is in a namespace the graph keeps for its own")


@pytest.mark.parametrize("body", [
    '[] a ilop:Project ; rdfs:label "x"@en .',
    '[] rdfs:label "x"@en .',
    '_:a rdfs:seeAlso _:b . _:b rdfs:seeAlso _:a .',  # a cycle of blank nodes with no way in
])
def test_a_blank_node_no_named_resource_leads_to_is_refused(submission_server: SubmissionServer, body: str) -> None:
    _refused(submission_server, P + body, "that no named resource of the file points at")


def test_a_resource_typed_only_with_classes_no_shape_checks_is_refused(submission_server: SubmissionServer) -> None:
    _refused(submission_server, P + 'ex:x a ex:Unknown ; rdfs:label "x"@en .',
             "<https://example.org/x> is typed only with <https://example.org/Unknown>, which no shape of the graph checks")


def test_blank_nodes_inside_a_named_resource_and_subclasses_of_checked_classes_are_not_refused(
    submission_server: SubmissionServer,
) -> None:
    body = P + 'ex:x a ilop:Ministry ; rdfs:label "x"@en ; rdfs:seeAlso [ rdfs:seeAlso [ rdfs:label "y" ] ] .'
    messages = [r["message"] for r in _post(submission_server, "/validate", body).json()["results"]]
    assert not [m for m in messages if "no named resource" in m or "no shape of the graph checks" in m], messages




def _not_xml_message(character: str, predicate: str = "rdfs:label") -> str:
    return (f"The value of {predicate} holds U+{ord(character):04X}, a character that XML cannot carry (a control "
            "character or a noncharacter)")


@pytest.mark.parametrize("character", NOT_XML, ids=codepoint_id)
def test_a_value_with_a_character_xml_cannot_carry_is_refused(submission_server: SubmissionServer, character: str) -> None:
    # Escaped in the Turtle (\u0001), so the file itself is valid; any value, a blank node's included.
    escape = f"\\u{ord(character):04X}"
    _refused(submission_server, P + f'ex:x a ilop:Ministry ; rdfs:label "a{escape}b"@en .', _not_xml_message(character))
    _refused(submission_server, P + f'ex:x a ilop:Ministry ; rdfs:label "x"@en ; rdfs:seeAlso [ rdfs:comment "{escape}" ] .',
             _not_xml_message(character, "rdfs:comment"))


def test_a_value_with_a_character_xml_cannot_carry_is_refused_in_json_ld(submission_server: SubmissionServer) -> None:
    body = ('{"@id": "https://example.org/x", "@type": "https://w3id.org/ilo-partnerships/ontology#Ministry", '
            '"http://www.w3.org/2000/01/rdf-schema#label": {"@value": "a\\u0002b", "@language": "en"}}')
    report = _post(submission_server, "/validate", body, "application/ld+json").json()
    assert [r["message"] for r in report["results"] if r["message"].startswith(_not_xml_message("\x02"))]
    assert _post(submission_server, "/submissions", body, "application/ld+json").status_code == 422


def test_line_breaks_and_tabs_in_a_value_are_not_refused(submission_server: SubmissionServer) -> None:
    body = P + 'ex:x a ilop:Ministry ; rdfs:label "line one\\r\\nline two\\tand a tab \\u007F \\uFFFD"@en .'
    messages = [r["message"] for r in _post(submission_server, "/validate", body).json()["results"]]
    assert messages and not [m for m in messages if "XML cannot carry" in m], messages
