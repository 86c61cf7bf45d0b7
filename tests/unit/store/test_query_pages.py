"""Pages of a SELECT written by the query worker: exactly the bytes the engine writes for the page alone."""

import gc
import json

import pyoxigraph as ox
import pytest

from server.formats.registry import CSV, ROWS, SOLUTION_FORMATS
from server.store import query_worker
from server.store.query_worker import QueryJob, ResultTooLargeError

EX = "https://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
# Values whose text has what could break a line-based cut: line breaks, tabs, quotes, commas, a blank node.
VALUES = [
    ox.Literal("two\nlines"), ox.Literal("tab\tand \"quotes\", commas\r\n"), ox.Literal("Seoul", language="ko"),
    ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")), ox.Literal("2.50", datatype=ox.NamedNode(XSD + "decimal")),
    ox.Literal("INF", datatype=ox.NamedNode(XSD + "double")), ox.Literal("2019", datatype=ox.NamedNode(XSD + "gYear")),
    ox.BlankNode("b1"), ox.NamedNode(EX + "o"), ox.Literal("last"),
]
QUERY = f"SELECT ?s ?o ?unbound WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("store") / "0"
    store = ox.Store(str(path))
    for number, value in enumerate(VALUES):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{number:02}"), ox.NamedNode(EX + "p"), value))
    store.flush()
    del store
    gc.collect()
    return str(path)


def _page(generation: str, name: str, size: int, offset: int = 0, max_bytes: int = 1 << 20) -> query_worker.QueryOutput:
    job = QueryJob(f"{QUERY} LIMIT {size + 1} OFFSET {offset}", name, max_bytes=max_bytes, page_size=size)
    return query_worker.run(job, generation)


@pytest.mark.parametrize("answer", SOLUTION_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize(("size", "offset", "more"), [(3, 0, True), (3, 6, True), (4, 6, False), (10, 0, False),
                                                      (9, 0, True), (5, 20, False)])
def test_a_page_is_the_engines_own_answer_for_that_page(
    generation: str, answer: object, size: int, offset: int, more: bool
) -> None:
    page = _page(generation, answer.name, size, offset)  # type: ignore[attr-defined]
    alone = ox.Store.read_only(generation).query(f"{QUERY} LIMIT {size} OFFSET {offset}")
    assert page.body == alone.serialize(format=answer.oxigraph)  # type: ignore[attr-defined, union-attr]
    assert page.more is more


def test_rows_are_plain_values_and_null_where_unbound(generation: str) -> None:
    page = _page(generation, ROWS.name, 10)
    document = json.loads(page.body or b"")
    assert document["columns"] == ["s", "o", "unbound"]
    assert [row["o"] for row in document["rows"]] == [
        "two\nlines", "tab\tand \"quotes\", commas\r\n", "Seoul", 42, 2.5, "INF", "2019", "_:b1", EX + "o", "last",
    ]
    assert {row["unbound"] for row in document["rows"]} == {None}
    assert page.more is False


def test_the_size_limit_applies_to_pages(generation: str) -> None:
    with pytest.raises(ResultTooLargeError):
        _page(generation, CSV.name, 9, max_bytes=100)


def test_an_ask_query_ignores_the_page_size(generation: str) -> None:
    job = QueryJob(f"ASK {{ ?s <{EX}p> ?o }}", "json", page_size=3)
    assert json.loads(query_worker.run(job, generation).body or b"")["boolean"] is True
