"""The SPARQL lexer, token rule by token rule (SPARQL 1.1 Query, 19.8), and how it measures nesting.

The differential test against the engine, and the endpoint's refusals, are in tests/security/test_sparql_text.py.
"""

import re

import pyoxigraph as ox
import pytest

from server.sparql.text import (
    _tokens,
    analyse,
    ask_as_select,
    iri_value,
    outside_graphs_emptied,
    without_dataset_clauses,
)
from tests.support.grammar import PN_LOCAL_ESC


@pytest.mark.parametrize(("text", "kinds"), [
    # WS is only space, tab, CR and LF; a comment ends at CR as well as at LF.
    ("# a comment\rSELECT", ["word"]),
    ("# a comment\r\nSELECT", ["word"]),
    ("# SELECT", []),
    # IRIREF: no spaces or brackets inside, UCHAR escapes allowed.
    ("<http://e/a\\u0020b>", ["iri"]),
    ("<a b>", ["other", "word", "word", "other"]),
    # Strings: ECHAR and UCHAR escapes never end a string; a short string ends at CR or LF.
    ("'it\\'s'", ["string"]),
    ('"say \\"x\\""', ["string"]),
    ('"a\\u0022 SERVICE"', ["string"]),
    ("'''it's '' fine'''", ["string"]),
    ('"""a "" b \\""" c"""', ["string"]),
    # Prefixed names: every PN_LOCAL_ESC, percent escapes, a dot inside but not at the end.
    *[(f"ex:a\\{c}b", ["pname"]) for c in PN_LOCAL_ESC],
    ("ex:a%41b", ["pname"]),
    ("ex:a.b.", ["pname", "other"]),
    (":", ["pname"]),
    # Keywords written straight before a colon: the engine reads the keyword, then the name.
    ("SERVICE:x", ["word", "pname"]),
    ("from:g", ["word", "pname"]),
    ("PREFIX:<http://e/>", ["word", "pname", "iri"]),
    ("PREFIX from: <http://e/>", ["word", "pname", "iri"]),
    # Variables, blank nodes, language tags and numbers are single tokens.
    ("?x1", ["var"]), ("$x", ["var"]), ("_:b.1", ["bnode"]), ("@en-GB", ["langtag"]), ("1.5e-3", ["number"]),
    ('"x"@service', ["string", "langtag"]),
    # Numbers in each form; words; anything else one character at a time.
    ("42", ["number"]), (".5", ["number"]), ("1.", ["number"]), ("2E10", ["number"]),
    ("SELECT", ["word"]), ("a_b2", ["word"]), ("{}", ["other", "other"]), ("^^", ["other", "other"]),
    # A variable needs a name; a lone ? or $ is another character.
    ("?", ["other"]), ("$ x", ["other", "word"]),
])
def test_each_terminal_is_one_token(text: str, kinds: list[str]) -> None:
    assert [t.kind for t in _tokens(text)] == kinds


@pytest.mark.parametrize(("token", "iri"), [
    ("<http://e/a>", "http://e/a"),
    ("<http://127.0.0.1\\u003A1/x>", "http://127.0.0.1:1/x"),
    ("<http://e/\\U0001F600>", "http://e/\U0001f600"),
])
def test_an_iri_is_read_with_its_escapes(token: str, iri: str) -> None:
    assert iri_value(token) == iri


@pytest.mark.parametrize("opening", ["(", "{", "[", "!"])
def test_nesting_is_measured_for_every_bracket_and_unary_operator(opening: str) -> None:
    assert analyse("SELECT * WHERE { FILTER(" + opening * 50 + "1").nesting >= 50


def test_brackets_in_strings_iris_and_comments_do_not_count() -> None:
    text = 'SELECT * WHERE { BIND("((((" AS ?a) BIND(<http://e/(((> AS ?b) } # ((((((\n'
    assert analyse(text).nesting == 2



def test_sibling_negations_do_not_add_up() -> None:
    assert analyse("ASK { FILTER(" + " && ".join(["!(?a)"] * 40) + ") }").nesting == 4


# An ASK as the SELECT an external store is sent (sparql.text.ask_as_select): the rest of the text kept as written,
# LIMIT 1 before a trailing VALUES (or none when the ASK has its own), `*` unless nothing or a grouping is projected.
ASK_AS_SELECT = [
    ("ASK { GRAPH <x:g> { ?s ?p ?o } }", "SELECT * { GRAPH <x:g> { ?s ?p ?o } }\nLIMIT 1\n"),
    ("PREFIX a: <x:>\nask WHERE { ?s a:p ?o } VALUES ?s { a:b }",
     "PREFIX a: <x:>\nSELECT * WHERE { ?s a:p ?o } \nLIMIT 1\nVALUES ?s { a:b }"),
    ("ASK { <x:a> <x:b> <x:c> }", "SELECT (1 AS ?ask) { <x:a> <x:b> <x:c> }\nLIMIT 1\n"),
    ("ASK { ?s ?p ?o } GROUP BY ?s", "SELECT (1 AS ?ask) { ?s ?p ?o } GROUP BY ?s\nLIMIT 1\n"),
    ("ASK { { SELECT ?s { ?s ?p ?o } LIMIT 5 } }", "SELECT * { { SELECT ?s { ?s ?p ?o } LIMIT 5 } }\nLIMIT 1\n"),
    ("ASK { ?s ?p ?o } LIMIT 0", "SELECT * { ?s ?p ?o } LIMIT 0"),
    ("ASK { ?s ?p ?o } # ASK LIMIT", "SELECT * { ?s ?p ?o } # ASK LIMIT\nLIMIT 1\n"),
    ("ASK { ?s ?p 'ASK VALUES' }", "SELECT * { ?s ?p 'ASK VALUES' }\nLIMIT 1\n"),
]


@pytest.mark.parametrize(("query", "select"), ASK_AS_SELECT)
def test_an_ask_becomes_the_select_that_has_a_solution_when_it_is_true(query: str, select: str) -> None:
    assert ask_as_select(query, analyse(query)) == select
    assert list(ox.Store().query(select)) == []  # a SELECT an engine reads


# A query without its FROM and FROM NAMED clauses (sparql.text.without_dataset_clauses), as an engine is sent it when
# the protocol's dataset replaces the query's. Written here with each clause between « and »: the clause is blanked
# out whatever its spelling (line breaks kept, so every other character keeps its line and column); the rest, strings
# and all, is kept as written.
WITHOUT_DATASET = [
    "SELECT * «FROM <x:g>» WHERE { ?s ?p ?o }",
    "ASK «from named <x:g>» «FROM <x:h>» { GRAPH ?g { ?s ?p ?o } }",
    "PREFIX ex: <x:>\nCONSTRUCT { ?s ?p ?o } «FROM ex:g» WHERE { ?s ?p ?o }",
    "PREFIX : <x:>\nSELECT * «FROM:g» { ?s ?p ?o }",
    "SELECT * «FROM # the graph\n<x:g>» { ?s ?p 'FROM <x:h>' }",
    "DESCRIBE <x:a> «FROM <x:g>» «FROM NAMED <x:h>»",
]


@pytest.mark.parametrize("marked", WITHOUT_DATASET)
def test_a_query_loses_its_dataset_clauses_and_nothing_else(marked: str) -> None:
    query = marked.replace("«", "").replace("»", "")
    blanked = re.sub("«([^»]*)»", lambda clause: re.sub("[^\n]", " ", clause.group(1)), marked)
    assert analyse(query).dataset_iris
    assert without_dataset_clauses(query, analyse(query)) == blanked
    assert analyse(blanked).dataset_iris == []
    ox.Store().query(blanked)  # a query an engine reads


# A group holding a GRAPH of a graph outside the dataset (here, any but <x:in>) gets one FILTER(false) at its start
# (sparql.text.outside_graphs_emptied); groups within a SERVICE are the other endpoint's, and a GRAPH ?g is left alone.
OUTSIDE_GRAPHS = [
    ("ASK { GRAPH <x:none> { <x:a> <x:b> <x:c> } }", "ASK { FILTER(false)  GRAPH <x:none> { <x:a> <x:b> <x:c> } }"),
    ("SELECT ?y { BIND(2 AS ?y) OPTIONAL { GRAPH <x:none> { ?s ?p ?o } } }",
     "SELECT ?y { BIND(2 AS ?y) OPTIONAL { FILTER(false)  GRAPH <x:none> { ?s ?p ?o } } }"),
    ("PREFIX g: <x:>\nSELECT * { { ?s ?p ?o } UNION { GRAPH g:none { ?s ?p ?o } GRAPH g:other {} } GRAPH g:in {} }",
     "PREFIX g: <x:>\nSELECT * { { ?s ?p ?o } UNION { FILTER(false)  GRAPH g:none { ?s ?p ?o } GRAPH g:other {} } "
     "GRAPH g:in {} }"),
    ("SELECT * { SERVICE <x:s> { GRAPH <x:none> { ?s ?p ?o } { GRAPH <x:none> {} } } GRAPH ?g { ?s ?p ?o } }",
     "SELECT * { SERVICE <x:s> { GRAPH <x:none> { ?s ?p ?o } { GRAPH <x:none> {} } } GRAPH ?g { ?s ?p ?o } }"),
    ("SELECT * { FILTER NOT EXISTS { GRAPH <x:none> {} } } # GRAPH <x:none> { }",
     "SELECT * { FILTER NOT EXISTS { FILTER(false)  GRAPH <x:none> {} } } # GRAPH <x:none> { }"),
    ("SELECT * { GRAPH <x:in> { ?s ?p ?o } }", "SELECT * { GRAPH <x:in> { ?s ?p ?o } }"),
]


@pytest.mark.parametrize(("query", "emptied"), OUTSIDE_GRAPHS)
def test_a_group_holding_a_graph_outside_the_dataset_is_emptied(query: str, emptied: str) -> None:
    assert outside_graphs_emptied(query, analyse(query), {"x:in"}) == emptied
    ox.Store().query(emptied)  # a query an engine reads


def test_from_and_from_named_are_told_apart() -> None:
    assert analyse("SELECT * FROM <x:a> FROM NAMED <x:b> from named <x:c> FROM <x:d> {}").dataset_named == [
        False, True, True, False]
